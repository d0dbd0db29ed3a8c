#!/usr/bin/env bash
# The first hour of a new user, checked on a fresh clone of this repository's current branch
# in a temporary directory (no ../shared beside it, no .venv): a .venv left broken by a failed
# first attempt is made again; the README's commands that need no Telegram work; `make
# messages` on the unchanged tree changes nothing; `make test` runs every test (none skipped).
# By hand: bash scripts/fresh-clone-check.sh (about three minutes).
set -euo pipefail
repository=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
branch=$(git -C "$repository" rev-parse --abbrev-ref HEAD)
clone=$(mktemp -d)/smm-bot
trap 'rm -rf "$(dirname "$clone")"' EXIT
git clone --quiet --no-local --branch "$branch" "$repository" "$clone"
cd "$clone"
say() { printf '\n== %s\n' "$*"; }

say "a .venv without pip (python3-venv missing at the first attempt) is made again"
python3 -m venv --without-pip .venv
make --no-print-directory .venv/.installed >/tmp/smm-bot-fresh-install.log 2>&1 ||
    { cat /tmp/smm-bot-fresh-install.log; exit 1; }
grep -q "rm -rf .venv" /tmp/smm-bot-fresh-install.log
.venv/bin/python -m pip --version >/dev/null

say "the README's commands"
printf 'BOT_TOKEN=123456789:your-token-from-botfather\nPANEL_URL=sandbox\n' >.env
.venv/bin/smm-bot --help >/dev/null
if .venv/bin/smm-bot health; then exit 1; fi  # not running: FAILED, exit status 1
make --no-print-directory -s .venv/.installed-dev
make --no-print-directory bench NAMES=catalog
.venv/bin/python -m bench catalog >/dev/null

say "make messages on an unchanged tree changes nothing"
make --no-print-directory -s messages
git diff --exit-code --stat

say "make test: every test runs (the real catalogs ship in tests/catalogs)"
make --no-print-directory test | tee /tmp/smm-bot-fresh-test.log | tail -3
if grep -Eq "[0-9]+ skipped" /tmp/smm-bot-fresh-test.log; then
    echo "FAILED: tests were skipped in a fresh clone" >&2
    exit 1
fi
say "fresh clone: OK"
