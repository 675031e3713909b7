# Puente: Python 3.13 with Node.js 20 for the WhatsApp bridges.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data

# Node.js 20+ from Debian (bookworm ships 18; trixie, python:3.13-slim's base, ships 20),
# and a compiler for better-sqlite3.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm build-essential python3 curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY bridge_node/package.json bridge_node/package-lock.json bridge_node/
RUN cd bridge_node && npm ci --omit=dev --no-audit --no-fund

COPY pyproject.toml README.md ./
COPY core core
COPY tenants tenants
COPY relay relay
COPY bot bot
COPY web web
COPY puente puente
RUN pip install --no-cache-dir '.[chart]'

COPY bridge_node/src bridge_node/src

# Puente and every bridge it starts run as this user, never as root. DATA_DIR (/data) is
# its own and private (0700); a named volume mounted there starts with this owner and mode.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/puente --shell /usr/sbin/nologin puente \
    && mkdir -p /data && chown puente:puente /data && chmod 0700 /data
USER puente
ENV HOME=/home/puente

VOLUME /data
EXPOSE 8080
# The operations listener (/healthz, /readyz, /metrics) stays on the container's loopback
# (OPS_HOST); the health check runs inside the container, so it reaches it there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:${OPS_PORT:-9464}/healthz || exit 1

CMD ["puente", "run"]
