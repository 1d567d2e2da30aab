# The default task image: this package with torch (CPU build) and scikit-learn.
#
#   docker build -t executor:cpu .                                   # online
#   images/build.sh cpu                                              # offline, from images/wheelhouse
#   docker build --build-arg BASE_IMAGE=my-python:3.11 -t executor:cpu .
#
# The base image needs python3 (3.11 or newer) with the venv module and /bin/sh.
# When images/wheelhouse holds wheels, every package comes from there and nothing is
# downloaded; otherwise pip uses the package index (torch from TORCH_INDEX_URL).
ARG BASE_IMAGE=python:3.11-slim

# ---- dependencies: changes only when pyproject.toml or the wheelhouse change ----
FROM ${BASE_IMAGE} AS dependencies
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheelhouse may be absent or empty: requirements.py makes the COPY valid either way.
COPY images/requirements.py images/wheelhouse/*.whl /tmp/wheelhouse/
COPY pyproject.toml /tmp/
RUN set -eu; \
    python3 -m venv /opt/executor; \
    python3 /tmp/wheelhouse/requirements.py /tmp/pyproject.toml --torch "torch==${TORCH_VERSION}" \
        > /tmp/requirements.txt; \
    if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
        /opt/executor/bin/pip install --no-index --find-links /tmp/wheelhouse \
            -r /tmp/requirements.txt; \
    else \
        /opt/executor/bin/pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"; \
        /opt/executor/bin/pip install -r /tmp/requirements.txt; \
    fi

# ---- this package, built into a wheel from the build context ----
FROM ${BASE_IMAGE} AS package
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY images/requirements.py images/wheelhouse/*.whl /tmp/wheelhouse/
COPY images/requirements.py images/wheelhouse/package/*.whl /tmp/wheelhouse/package/
COPY pyproject.toml README* LICENSE* /tmp/src/
COPY executor /tmp/src/executor
# images/build.sh leaves a wheel of the package in wheelhouse/package; otherwise build one.
RUN set -eu; \
    mkdir -p /tmp/dist; \
    if ls /tmp/wheelhouse/package/executor-*.whl >/dev/null 2>&1; then \
        cp /tmp/wheelhouse/package/executor-*.whl /tmp/dist/; \
    else \
        offline=""; \
        if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
            offline="--no-index --find-links /tmp/wheelhouse"; \
        fi; \
        python3 -m venv /tmp/build; \
        /tmp/build/bin/pip wheel $offline --no-deps --wheel-dir /tmp/dist /tmp/src; \
    fi

# ---- the image ----
FROM ${BASE_IMAGE}
ENV VIRTUAL_ENV=/opt/executor \
    PATH=/opt/executor/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/tmp
COPY --from=dependencies /opt/executor /opt/executor
COPY --from=package /tmp/dist /tmp/dist
RUN pip install --no-index --no-deps /tmp/dist/*.whl && rm -rf /tmp/dist \
    && python -c "import executor, torch, sklearn"
LABEL org.opencontainers.image.title="executor:cpu" \
      org.opencontainers.image.description="executor with torch (CPU) and scikit-learn"
CMD ["python"]
