# One image for every service: migrate, worker, beat, api.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LEGDAY_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sync ./sync
COPY worker ./worker
RUN pip install --no-cache-dir . && useradd --create-home legday && mkdir -p /data && chown legday /data
USER legday
VOLUME /data
CMD ["legday", "--help"]
