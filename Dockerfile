# One image for every service of docker-compose.yml: migrate, the workers, beat, api, flower. A current, patched Python; the `login` extra makes `legday garmin login` work here.
FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LEGDAY_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY sync ./sync
COPY worker ./worker
# A wheel install, as an operator's `pip install` would do: no source tree is used at run time.
RUN pip install --no-cache-dir ".[flower,login]" \
    && useradd --create-home --uid 10001 legday \
    && mkdir -p /data && chown legday /data
USER legday
WORKDIR /home/legday
VOLUME /data
CMD ["legday", "--help"]
