from django.conf import settings


def client_ip(request) -> str | None:
    """The requester's address as our own proxies saw it.

    X-Forwarded-For is only believed for the hops we run: each trusted proxy
    appends the address it received the request from, so the client is the
    TRUSTED_PROXY_COUNT-th entry from the right. Anything further left was
    written by the client and may be forged.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    chain = [
        h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()
    ]
    if len(chain) < hops:
        return remote
    return chain[-hops]
