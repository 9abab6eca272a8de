#!/usr/bin/env bash
# Installs kllvm from scratch on Debian 12 as root: system packages, then a virtual
# environment in .venv with the project and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# gcc (and binutils' objdump): the live uprobe tests compile the program they probe.
apt-get install -y -qq python3-venv python3-bpfcc libbpf1 bpftrace gcc jq >/dev/null
/usr/bin/python3 -m venv .venv
# bcc is Debian's python3-bpfcc (the PyPI package of that name is unrelated): expose only
# its pure-Python package to the venv, no other Debian package.
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sfn /usr/lib/python3/dist-packages/bcc "$site/bcc"
.venv/bin/pip install -q --upgrade pip
# compat: the project root on sys.path through a plain .pth file. The default editable
# mode imports a finder module at every interpreter start, ~10 ms of kllvm's cold start.
.venv/bin/pip install -q --config-settings editable_mode=compat -e '.[test]'
