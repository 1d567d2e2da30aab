#!/usr/bin/env bash
# Build the task images: executor:lean, executor:cpu (the top-level Dockerfile), executor:gpu.
#
#   images/build.sh                 # all three
#   images/build.sh lean cpu        # only these
#
# Before building, the wheelhouse (images/wheelhouse) is filled with every wheel the CPU
# images need, using this machine's pip (a local wheel or cache is taken when there is one),
# and a wheel of this package is built into images/wheelhouse/package, so that the builds
# themselves download nothing. Set OFFLINE=0 to skip that step and let
# pip inside the builds use the package index instead (an empty wheelhouse means online).
#
# Environment:
#   BASE_IMAGE       base of the lean and cpu images (python:3.11-slim); it must run the
#                    same Python minor version as this machine when the wheelhouse is used
#   GPU_BASE_IMAGE   base of the gpu image (nvidia/cuda:12.8.1-runtime-ubuntu24.04)
#   TORCH_VERSION    the torch release to install (2.13.0)
#   TORCH_INDEX_URL  the index of the gpu image's CUDA torch (https://download.pytorch.org/whl/cu128)
#   TAG_PREFIX       image name prefix (executor), giving executor:lean, executor:cpu, ...
#   OFFLINE          1 (default) to fill the wheelhouse and build from it, 0 to build online
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
WHEELHOUSE="$HERE/wheelhouse"
BASE_IMAGE="${BASE_IMAGE:-python:3.11-slim}"
GPU_BASE_IMAGE="${GPU_BASE_IMAGE:-nvidia/cuda:12.8.1-runtime-ubuntu24.04}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cu128}"
TAG_PREFIX="${TAG_PREFIX:-executor}"
OFFLINE="${OFFLINE:-1}"
PYTHON="${PYTHON:-python3}"

say() { printf '[build.sh] %s\n' "$*"; }

fill_wheelhouse() {
    local wanted stamp="$WHEELHOUSE/.requirements"
    wanted="$("$PYTHON" "$HERE/requirements.py" "$REPO/pyproject.toml" \
        --torch "torch==$TORCH_VERSION"; printf 'setuptools>=68\nwheel\n')"

    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        say "the wheelhouse is up to date ($(ls "$WHEELHOUSE"/*.whl | wc -l) wheels)"
        return
    fi

    say "filling the wheelhouse $WHEELHOUSE"
    mkdir -p "$WHEELHOUSE"
    printf '%s\n' "$wanted" >"$WHEELHOUSE/.requirements.txt"
    if ! "$PYTHON" -m pip download --quiet --only-binary=:all: --dest "$WHEELHOUSE" \
        -r "$WHEELHOUSE/.requirements.txt" >"$WHEELHOUSE/.requirements.log" 2>&1; then
        grep -v "is ignored: it is neither" "$WHEELHOUSE/.requirements.log" >&2
        exit 1
    fi
    rm -f "$WHEELHOUSE/.requirements.txt" "$WHEELHOUSE/.requirements.log"
    printf '%s' "$wanted" >"$stamp"
}

build_package_wheel() {
    # A wheel of this package, built here in a second, saves a slower build inside each image.
    local target="$WHEELHOUSE/package"
    rm -rf "$target"
    mkdir -p "$target"
    # A fixed timestamp makes the wheel the same bytes when the source is the same, so the
    # image layers that install it stay cached.
    export SOURCE_DATE_EPOCH=315532800
    if ! "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$target" \
        "$REPO" 2>/dev/null; then
        "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$target" "$REPO"
    fi
    say "built $(basename "$target"/executor-*.whl)"
}

build() {
    local name="$1" dockerfile="$2"
    shift 2
    say "building $TAG_PREFIX:$name from ${dockerfile#"$REPO"/}"
    DOCKER_BUILDKIT=0 docker build --quiet --file "$dockerfile" --tag "$TAG_PREFIX:$name" "$@" "$REPO" >/dev/null
    say "built $TAG_PREFIX:$name ($(docker image inspect --format '{{.Size}}' "$TAG_PREFIX:$name" \
        | awk '{printf "%.0f MB", $1 / 1e6}'))"
}

main() {
    local images=("$@")
    if ((${#images[@]} == 0)); then
        images=(lean cpu gpu)
    fi

    if [ "$OFFLINE" = 1 ]; then
        fill_wheelhouse
        build_package_wheel
    fi

    for image in "${images[@]}"; do
        case "$image" in
        lean) build lean "$HERE/cpu-lean/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" ;;
        cpu)
            build cpu "$REPO/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
                --build-arg "TORCH_VERSION=$TORCH_VERSION"
            ;;
        gpu)
            build gpu "$HERE/gpu/Dockerfile" --build-arg "BASE_IMAGE=$GPU_BASE_IMAGE" \
                --build-arg "TORCH_VERSION=$TORCH_VERSION" \
                --build-arg "TORCH_INDEX_URL=$TORCH_INDEX_URL"
            ;;
        *)
            say "unknown image '$image': expected lean, cpu or gpu"
            exit 2
            ;;
        esac
    done
}

main "$@"
