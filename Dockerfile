# record-meet as a container image: one static executable (the site is inside it), non-root,
# with a health check. Build the bundle first, then the image:
#
#     make dist
#     podman build --format docker -t record-meet .     # or: docker build -t record-meet .
#
# Stage 1 unpacks the release bundle; stage 2 is the runtime, `scratch` plus that one file: no
# shell, no package manager, nothing to patch but record-meet itself. The bundle's executable
# is statically linked, so it needs no libc from the image.
FROM scratch AS bundle
ADD dist/record-meet-*.tar.gz /bundle/

FROM scratch
COPY --from=bundle /bundle/record-meet-*/record-meet /record-meet
# The state directory (the session handoff of a restart) and recordings, writable by the
# unprivileged user; mount volumes here (see compose.yaml).
COPY --from=bundle --chown=10001:10001 /bundle/record-meet-*/var/ /var/lib/record-meet/
USER 10001:10001
ENV LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    RECORD_MEET_STATE_DIR=/var/lib/record-meet \
    RECORD_MEET_RECORDINGS_DIR=/var/lib/record-meet/recordings
EXPOSE 3000
# SIGTERM drains (close 1012, handoff); the default 10 s stop timeout of `docker stop` is just
# enough for the default 10 s drain timeout, compose.yaml gives it 20 s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/record-meet", "--check-health"]
ENTRYPOINT ["/record-meet"]
