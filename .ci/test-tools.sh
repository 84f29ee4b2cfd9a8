# shellcheck shell=bash
# Sourced by .ci/run: installs the outside tools that Weir's comparison tests hold it against, each
# only when it is missing, so a machine that has them goes straight to the tests. With CI=true those
# tests fail when a tool is missing (test/helpers/tools.ts), so this runs first. Nothing here stops
# the run: without root or apt-get it says what it could not install and goes on.
#
# - openssl: TLS fixtures of the gateway and `weir ec2 --ca-bundle` tests.
# - zsh: `weir completion zsh` is run in a real zsh (test/cli/program.test.ts).
# - sqlite3: the audit tamper tests edit a store with it (test/audit/tamper.test.ts).
# - AWS CLI v1 with botocore and boto3, in python3: the real `aws`, awscli's own driver, shorthand
#   parser and formatters (test/tools/awscli_*.py), botocore's parsers and signer
#   (test/tools/botocore_parse.py, src/api/sigv4.test.ts) and boto3 (test/tools/boto3_scenario.py).
#   Weir's `weir ec2` ports awscli 1.45.11 / botocore 1.43.11 and the tests expect v1's exit codes.
#   Debian 12 has no awscli v1 (its awscli is 2.9, which vendors its own botocore, and its
#   python3-botocore "Breaks: awscli"), so these come from PyPI, pinned, into a virtualenv made
#   with Debian's python3-venv; the virtualenv is kept in ~/.cache and reused.
# - ruamel.yaml with its C emitter (AWS CLI v2's YAML library, for the YAML output cross-check):
#   Debian's python3-ruamel.yaml and python3-ruamel.yaml.clib (test/tools/awscli_format.py also
#   looks in /usr/lib/python3/dist-packages), else pip into the virtualenv when there is one.
# - Debian's ansible (ansible-core with the amazon.aws and ansible.posix collections): the playbook
#   of test/api/ansible.test.ts drives Weir with amazon.aws's ec2_security_group and ec2_vpc_net_info;
#   its modules run under the python3 that has boto3 above.
# - Debian's postgresql (its binaries in /usr/lib/postgresql/*/bin and the `postgres` system user):
#   scripts/postgres.sh starts a throwaway server from them for the PostgreSQL store's tests
#   (src/store/postgres/postgres.test.ts, test/store/*.test.ts via test/helpers/postgres.ts).
# - Debian's chromium (/usr/bin/chromium): the console's browser tests drive it with playwright-core
#   (test/helpers/console.ts, test/console/*.test.ts); the report prints its PDF with it.

WEIR_CI_AWSCLI_VERSION=1.45.11
WEIR_CI_BOTO3_VERSION=1.43.11
WEIR_CI_RUAMEL_VERSION=0.17.21
WEIR_CI_VENV="${WEIR_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/weir-ci/awscli-$WEIR_CI_AWSCLI_VERSION}"
weir_ci_apt_updated=

weir_ci_log() { printf 'ci: %s\n' "$*" >&2; }

# apt-get install, as root or with passwordless sudo; returns 1 (never exits) when it cannot.
weir_ci_apt_install() {
  local sudo=()
  if ! command -v apt-get >/dev/null 2>&1; then
    weir_ci_log "no apt-get: not installing $*"
    return 1
  fi
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
      sudo=(sudo -n)
    else
      weir_ci_log "not root: not installing $*"
      return 1
    fi
  fi
  if [ -z "$weir_ci_apt_updated" ]; then
    "${sudo[@]}" apt-get update -qq || return 1
    weir_ci_apt_updated=1
  fi
  weir_ci_log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

weir_ci_has_aws_v1() {
  aws --version 2>&1 | grep -q '^aws-cli/1\.' &&
    python3 -c 'import awscli, botocore, boto3' >/dev/null 2>&1
}

# As test/tools/awscli_format.py looks for it.
weir_ci_has_ruamel() {
  python3 - >/dev/null 2>&1 <<'PY'
import sys
try:
    import ruamel.yaml
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    import ruamel.yaml
PY
}

weir_ci_install_aws_v1() {
  if [ -x "$WEIR_CI_VENV/bin/aws" ]; then
    export PATH="$WEIR_CI_VENV/bin:$PATH"
    weir_ci_has_aws_v1 && return 0
  fi
  command -v python3 >/dev/null 2>&1 || weir_ci_apt_install python3 || return 1
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || weir_ci_apt_install python3-venv || return 1
  weir_ci_log "pip install awscli==$WEIR_CI_AWSCLI_VERSION boto3==$WEIR_CI_BOTO3_VERSION into $WEIR_CI_VENV"
  python3 -m venv "$WEIR_CI_VENV" &&
    "$WEIR_CI_VENV/bin/pip" install -q --disable-pip-version-check \
      "awscli==$WEIR_CI_AWSCLI_VERSION" "boto3==$WEIR_CI_BOTO3_VERSION" || return 1
  export PATH="$WEIR_CI_VENV/bin:$PATH"
}

weir_ci_install_ruamel() {
  weir_ci_apt_install python3-ruamel.yaml python3-ruamel.yaml.clib && weir_ci_has_ruamel && return 0
  [ -x "$WEIR_CI_VENV/bin/pip" ] || return 1
  "$WEIR_CI_VENV/bin/pip" install -q --disable-pip-version-check \
    "ruamel.yaml==$WEIR_CI_RUAMEL_VERSION" ruamel.yaml.clib
}

# - curl, git, pip and Python requests: real proxy clients that send the token as Basic credentials
#   from a proxy URL (test/gateway/real-proxy-clients.test.ts). python3 may be the AWS CLI
#   virtualenv's, which sees no Debian package: requests then goes into the virtualenv.
weir_ci_install_proxy_clients() {
  command -v curl >/dev/null 2>&1 || weir_ci_apt_install curl || true
  command -v git >/dev/null 2>&1 || weir_ci_apt_install git || true
  python3 -m pip --version >/dev/null 2>&1 || weir_ci_apt_install python3-pip || true
  python3 -c 'import requests' >/dev/null 2>&1 || weir_ci_apt_install python3-requests || true
  if ! python3 -c 'import requests' >/dev/null 2>&1 && [ -x "$WEIR_CI_VENV/bin/pip" ]; then
    "$WEIR_CI_VENV/bin/pip" install -q --disable-pip-version-check requests || true
  fi
}

# Installs what is missing; always returns 0 (a tool still missing fails its tests under CI=true).
weir_ci_install_test_tools() {
  command -v openssl >/dev/null 2>&1 || weir_ci_apt_install openssl || true
  command -v zsh >/dev/null 2>&1 || weir_ci_apt_install zsh || true
  command -v sqlite3 >/dev/null 2>&1 || weir_ci_apt_install sqlite3 || true
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || weir_ci_apt_install postgresql || weir_ci_log 'postgresql still missing'
  weir_ci_has_aws_v1 || weir_ci_install_aws_v1 || weir_ci_log 'AWS CLI v1 / botocore / boto3 still missing'
  weir_ci_has_ruamel || weir_ci_install_ruamel || weir_ci_log 'ruamel.yaml still missing'
  command -v ansible-playbook >/dev/null 2>&1 || weir_ci_apt_install ansible || weir_ci_log 'ansible still missing'
  weir_ci_install_proxy_clients
  [ -x /usr/bin/chromium ] || weir_ci_apt_install chromium || weir_ci_log 'chromium still missing'
  return 0
}
