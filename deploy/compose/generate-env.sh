#!/usr/bin/env bash
# Writes a .env for docker-compose.yml with fresh random passwords and a new Ed25519
# signing key for the gateway. Needs openssl 1.1.1 or later. Refuses to overwrite.
#
#   deploy/compose/generate-env.sh [path]    (default: .env in the current directory)
set -euo pipefail

target="${1:-.env}"
if [[ -e "$target" ]]; then
    echo "$target exists; not overwriting it" >&2
    exit 1
fi

password() { openssl rand -hex 24; }
# The PEM on one line, its line breaks written as \n (compose reads them back in
# double-quoted values).
signing_key="$(openssl genpkey -algorithm ed25519 | awk '{ printf "%s\\n", $0 }')"

umask 077
cat >"$target" <<ENV
CRM_DB_PASSWORD=$(password)
ERP_DB_PASSWORD=$(password)
GATEWAY_DB_PASSWORD=$(password)
REDIS_PASSWORD=$(password)
GATEWAY_SIGNING_KEY_PEM="$signing_key"
GATEWAY_BOOTSTRAP_ADMIN_PASSWORD=$(password)
ENV
echo "wrote $target; the first administrator signs in as admin with GATEWAY_BOOTSTRAP_ADMIN_PASSWORD from it"
