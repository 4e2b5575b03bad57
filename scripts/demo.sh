#!/usr/bin/env bash
# Install and start the app on SQLite with demo data, on a fresh machine:
#   bash scripts/demo.sh                      # http://127.0.0.1:5000, this machine only
#   HOST=0.0.0.0 PORT=8000 bash scripts/demo.sh  # reachable from phones on the same network
# A second run keeps the data (it says "Demo data already there") and prints the logins again.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
pip install -q --disable-pip-version-check -r requirements.txt
# A random secret key, kept in .env (never committed) so logins survive restarts.
[ -f .env ] || echo "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')" > .env
flask --app inventory db upgrade
# Fills an empty database and prints the logins; on the demo's own database it prints them again.
# A database holding other data is refused (and kept): the app then starts on it as it is.
flask --app inventory seed-demo || echo "(seed-demo left the database as it is; starting the app on it)"
echo
echo "Open http://${HOST/0.0.0.0/127.0.0.1}:${PORT} on this machine."
if [ "$HOST" = "127.0.0.1" ] || [ "$HOST" = "localhost" ]; then
  echo "For phones on the same network: HOST=0.0.0.0 bash scripts/demo.sh, then open http://<this machine's address>:${PORT}."
else
  echo "Phones on the same network: http://<this machine's address>:${PORT}."
fi
echo "(The camera scanner needs HTTPS on a phone; over plain http the Scan page offers the code box. See README, \"HTTPS for the camera\".)"
echo
exec flask --app inventory run --host "$HOST" --port "$PORT"
