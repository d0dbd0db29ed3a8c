#!/usr/bin/env bash
# Build the Docker image and run it once, as an operator would: by hand, as root, not part of
# `make test` (CI has no Docker daemon). Where base images cannot be pulled (this workplace),
# a Debian 12 base is made with debootstrap from the mirror apt uses and imported.
#
# It checks: the build context holds no secret or database (.dockerignore); a change to the
# code reuses the layer of the pinned packages; the bot in the container answers in English
# and Indonesian (a fake Bot API on 127.0.0.1, the sandbox panel); the health check turns
# healthy from the heartbeat; a backup and a restore inside the volume; `docker stop` stops it
# gracefully (exit 0, one SIGTERM). It prints the image size and the health state.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=smm-bot:smoke
BASE_IMAGE=smm-bot-base:bookworm
NAME=smm-bot-smoke
VOLUME=smm-bot-smoke-data

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap
fi
if ! docker info >/dev/null 2>&1; then
    echo "starting dockerd (log: /tmp/smm-bot-dockerd.log)"
    dockerd --storage-driver=vfs --iptables=false --bridge=none >/tmp/smm-bot-dockerd.log 2>&1 &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
    rootfs=$(mktemp -d)
    chmod 755 "$rootfs"  # the image's /, which mktemp made for root alone
    echo "making the base image $BASE_IMAGE with debootstrap from $mirror"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$mirror" >/tmp/smm-bot-debootstrap.log
    # pip in the build trusts the certificates this machine trusts (its way to the registry
    # may pass a proxy with a certificate of its own); pip otherwise reads its own bundle.
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    tar -C "$rootfs" -c . | docker import \
        --change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt" - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
fi

build() {  # build CONTEXT LOG
    DOCKER_BUILDKIT=0 docker build --network host --build-arg BASE="$BASE_IMAGE" \
        -t "$IMAGE" "$1" >"$2" 2>&1 || { cat "$2"; exit 1; }
}

echo "building $IMAGE"
build . /tmp/smm-bot-build.log
grep -m1 "Sending build context" /tmp/smm-bot-build.log

# The same sources but for one changed line of code: the pinned packages' layer is reused.
changed=$(mktemp -d)
git ls-files -z | xargs -0 cp --parents -t "$changed"
echo "# a changed line" >>"$changed/bot/__init__.py"
build "$changed" /tmp/smm-bot-build-changed.log
rm -rf "$changed"
if awk '/RUN pip install --require-hashes/ {getline; found = /Using cache/} END {exit !found}' \
    /tmp/smm-bot-build-changed.log; then
    echo "a change to the code: the pinned packages' layer came from the cache"
else
    echo "FAILED: a change to the code reinstalled the pinned packages" >&2
    exit 1
fi
build . /tmp/smm-bot-build.log  # the image of the real sources again

docker rm -f "$NAME" >/dev/null 2>&1 || true
docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true

# The run: a fake Bot API on 127.0.0.1 (the container shares the host's network), the
# sandbox panel, and the checks; Python from the project's .venv (make test makes it).
make --no-print-directory -s .venv/.installed-dev
.venv/bin/python - "$IMAGE" "$NAME" "$VOLUME" <<'PYTHON'
import json
import subprocess
import sys
import time

sys.path.insert(0, ".")
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.harness import TOKEN  # noqa: E402

image, name, volume = sys.argv[1:]


def docker(*args: str, check: bool = True) -> str:
    """The command's output (a container's log is on both streams)."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and done.returncode:
        sys.exit(f"FAILED: docker {' '.join(args)}: {done.stdout}{done.stderr}")
    return (done.stdout + done.stderr).strip()


def wait_for(what: str, condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    print(docker("logs", name, check=False))
    sys.exit(f"FAILED: {what}")


def health() -> str:
    return docker("inspect", "--format", "{{.State.Health.Status}}", name)


telegram = FakeTelegram(TOKEN).start()
environment = {
    "BOT_TOKEN": TOKEN,
    "PANEL_URL": "sandbox",
    "TELEGRAM_API_URL": telegram.api_url,
    "ADMIN_IDS": "1",
    "ALLOWED_IDS": "2",
    "POLL_INTERVAL": "3600",
}
flags = [f"--env={key}={value}" for key, value in environment.items()]
# The image's own health check, only probed more often than its 30 s.
docker("run", "--detach", f"--name={name}", "--network=host", "--health-interval=3s",
       f"--volume={volume}:/data", *flags, image)
wait_for("polling starts", lambda: "deleteWebhook" in telegram.methods())
telegram.push_text(1, "/start")
telegram.push_text(2, "/start", language="id")
wait_for("answers", lambda: telegram.sent(1) and telegram.sent(2), 30)
assert "Welcome" in telegram.sent(1)[0]["text"], telegram.sent(1)
assert "Selamat datang" in telegram.sent(2)[0]["text"], telegram.sent(2)
print("the bot in the container answers in English and in Indonesian")
wait_for("healthy", lambda: health() == "healthy", 60)
probe = json.loads(docker("inspect", "--format", "{{json .State.Health}}", name))
print(f"health: {health()} ({probe['Log'][-1]['Output'].strip()})")

print(docker("exec", name, "smm-bot", "backup", "/data/backups/smoke.db"))
docker("stop", name)
state = json.loads(docker("inspect", "--format", "{{json .State}}", name))
logs = docker("logs", name)
assert state["ExitCode"] == 0, (state, logs)
assert "SIGTERM received: stopping" in logs and "bot stopped" in logs, logs
assert "still stopping" not in logs and "Traceback" not in logs, logs
print("docker stop: exit 0, stopped gracefully on one SIGTERM")

restore = "cp /data/backups/smoke.db /data/bot.db && rm -f /data/bot.db-wal /data/bot.db-shm"
docker("run", "--rm", f"--volume={volume}:/data", "--entrypoint=sh", image, "-c", restore)
docker("start", name)
wait_for("restarted after the restore", lambda: health() == "healthy", 60)
print("restored the backup inside the volume; the bot started on it")
docker("stop", name)
telegram.stop()
PYTHON

size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
echo "image $IMAGE: $((size / 1000000)) MB (base $BASE_IMAGE: $(($(docker image inspect \
    --format '{{.Size}}' "$BASE_IMAGE") / 1000000)) MB)"
docker rm -f "$NAME" >/dev/null
docker volume rm -f "$VOLUME" >/dev/null
echo "docker smoke: OK"
