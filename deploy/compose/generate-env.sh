#!/usr/bin/env bash
# Writes a .env for docker-compose.yml with fresh random passwords, a new Ed25519 signing
# key for the gateway and a key sealing its webhook secrets. Needs openssl 1.1.1 or later.
# Refuses to overwrite.
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
# A Fernet key: 32 random bytes in url-safe base64.
fernet_key="$(openssl rand -base64 32 | tr '+/' '-_')"

umask 077
cat >"$target" <<ENV
CRM_DB_PASSWORD=$(password)
ERP_DB_PASSWORD=$(password)
GATEWAY_DB_PASSWORD=$(password)
REDIS_PASSWORD=$(password)
GATEWAY_SIGNING_KEY_PEM="$signing_key"
GATEWAY_WEBHOOK_SECRET_KEYS='["$fernet_key"]'
GATEWAY_BOOTSTRAP_ADMIN_PASSWORD=$(password)
ENV
echo "wrote $target; the first administrator signs in as admin with GATEWAY_BOOTSTRAP_ADMIN_PASSWORD from it"
