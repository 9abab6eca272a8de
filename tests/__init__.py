"""The test suite is a package so that test-support modules (tests/programs/kpt.py) are
imported by their full name (`tests.programs.kpt`) rather than through sys.path edits.

The stage folders (tests/frontend, tests/ir, ...) stay plain folders: pytest imports their
test modules by file name, as before.
"""
