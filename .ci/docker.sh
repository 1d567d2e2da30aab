#!/usr/bin/env bash
# Make a Docker engine and the task images ready for the Docker tests.
#
# 1. install docker.io and debootstrap when they are missing;
# 2. start dockerd when no engine answers, and wait for its socket;
# 3. make the local base image with debootstrap unless it is already there (no registry
#    can be reached, so no image can be pulled);
# 4. build the images the tests use, offline, from a local wheelhouse.
#
# It runs as root, needs no input, and is quick when everything is already in place.
# Environment:
#   EXECUTOR_BASE_IMAGE   the local base image to make or reuse (executor-base:bookworm)
#   EXECUTOR_IMAGES       the images to build: "lean cpu" by default, "" for none (images/build.sh)
#   DOCKERD_LOG           where the started engine writes its log
set -euo pipefail

BASE_IMAGE="${EXECUTOR_BASE_IMAGE:-executor-base:bookworm}"
IMAGES="${EXECUTOR_IMAGES-lean cpu}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/executor-dockerd.log}"
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

ROOTFS=""
trap '[ -z "$ROOTFS" ] || rm -rf "$ROOTFS"' EXIT

say() { printf '[docker.sh] %s\n' "$*"; }

install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

engine_answers() { docker info >/dev/null 2>&1; }

start_engine() {
    if engine_answers; then
        say "the engine is already running"
        return
    fi

    say "starting dockerd (log: $DOCKERD_LOG)"
    nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &

    for _ in $(seq 1 120); do
        if [ -S /var/run/docker.sock ] && engine_answers; then
            say "the engine answers"
            return
        fi
        sleep 0.5
    done
    say "dockerd did not answer within 60 s; its log ends with:"
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
}

make_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        say "reusing the base image $BASE_IMAGE"
        return
    fi

    ROOTFS="$(mktemp -d /var/tmp/executor-rootfs.XXXXXX)"
    local rootfs="$ROOTFS"

    say "making the base image $BASE_IMAGE with debootstrap (about a minute)"
    debootstrap --variant=minbase \
        --include=python3,python3-pip,python3-venv,python3-numpy,ca-certificates \
        bookworm "$rootfs" http://deb.debian.org/debian >/dev/null

    # pip inside the image must trust the same authorities as this machine.
    cp "$HOST_CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

    tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt" \
        --change 'CMD ["python3"]' \
        - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    say "made $BASE_IMAGE"
}

install_packages
start_engine
make_base_image
if [ -n "$IMAGES" ]; then
    # shellcheck disable=SC2086 # a list of image names
    BASE_IMAGE="$BASE_IMAGE" "$REPO/images/build.sh" $IMAGES
fi
