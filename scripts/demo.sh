#!/usr/bin/env bash
# Install and start the app on SQLite with demo data, on a fresh machine:
#   bash scripts/demo.sh
# Then open http://127.0.0.1:5000 (or http://<this machine's address>:5000 on a phone).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
pip install -q --disable-pip-version-check -r requirements.txt
# A random secret key, kept in .env (never committed) so logins survive restarts.
[ -f .env ] || echo "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')" > .env
flask --app inventory db upgrade
flask --app inventory seed-demo || echo "(the database already has data; keeping it)"
exec flask --app inventory run --host 0.0.0.0 --port 5000
