# One image for every O-V2X-MP service of docker-compose-prod.yml; the
# subcommand chooses the service: `docker run IMAGE web`, `… csms`, `… worker`,
# `… beat`, `… manage migrate --noinput`. Without one it runs `ov2xmp up`
# (the whole platform in one process, SQLite in /var/lib/ov2xmp).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY pyproject.toml constraints.txt README.md ./
COPY ov2xmp-django ./ov2xmp-django
# A regular (not editable) install: the source tree is not needed afterwards.
RUN pip install --constraint constraints.txt . \
    && rm -rf /build

RUN useradd --system --uid 10001 --user-group --create-home \
        --home-dir /var/lib/ov2xmp --shell /usr/sbin/nologin ov2xmp
# Created here, owned by the service user, so that a volume mounted on it
# starts with that owner.
RUN mkdir -p /var/lib/ov2xmp/files && chown ov2xmp:ov2xmp /var/lib/ov2xmp/files
ENV OV2XMP_DATA_DIR=/var/lib/ov2xmp
WORKDIR /var/lib/ov2xmp
USER ov2xmp

# API (ov2xmp web / up) and OCPP websockets (ov2xmp csms / up).
EXPOSE 8000 9000 2121
ENTRYPOINT ["ov2xmp"]
CMD ["up", "--bind", "0.0.0.0"]
