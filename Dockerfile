# The Rounds bot: one image runs `python -m bot <mode>`; state lives in PostgreSQL + /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    ROUNDS_DATA_DIR=/data
WORKDIR /app

# CPU torch first and pinned, or the resolver pulls several GB of CUDA wheels.
COPY constraints.txt ./
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY core ./core
COPY storage ./storage
COPY scheduler ./scheduler
RUN pip install --no-cache-dir -c constraints.txt .

RUN useradd --create-home rounds && mkdir -p /data && chown rounds /data
USER rounds
VOLUME ["/data"]
# The Telegram webhook server (ROUNDS_TELEGRAM_WEBHOOK_LISTEN), behind the reverse proxy.
EXPOSE 8443
ENTRYPOINT ["python", "-m", "bot"]
CMD ["all"]
