"""Realistic nginx access lines for the storage benchmarks, parsed by Dendro's own nginx program.

Each line is nginx's ``combined`` format plus ``$request_time`` (the format ``dendro configure``
recommends): a client address out of 5,000 (a few of them busy), paths of an online shop (user
and product ids, search queries, hashed static assets), about 80 user agents, referers, status
codes and response sizes in realistic proportions, and one of 20 web servers as the host. Times
advance by whole seconds, as ``$time_local`` logs them. The events are what the catalog's VRL
program makes of the lines (run with vrl-python, as Vector would), so they are the rows Dendro
stores; a 5xx keeps its raw line in ``message``, as the program does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dendro.services import catalog
from dendro.services.runner import run_events

AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0"
    " Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.{v} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel {v}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0"
    " Mobile Safari/537.36",
    "curl/8.{v}.0",
    "python-requests/2.{v}.0",
    "Go-http-client/1.1",
    "Prometheus/2.{v}.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)
SEARCHES = ("shoes", "red+shirt", "laptop", "phone+case", "coffee", "desk+lamp", "gift+card")
FIXED = ("/", "/login", "/cart", "/checkout", "/healthz", "/api/v1/session", "/favicon.ico")


def _path(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return f"/api/v1/users/{rng.randint(1, 200_000)}/orders?page={rng.randint(1, 20)}"
    if r < 0.55:
        kind, ext = rng.choice(("app", "vendor", "main", "chunk")), rng.choice(("js", "css"))
        return f"/static/{kind}.{rng.getrandbits(32):08x}.{ext}"
    if r < 0.70:
        return f"/products/{rng.randint(1, 50_000)}"
    if r < 0.80:
        return f"/search?q={rng.choice(SEARCHES)}&page={rng.randint(1, 5)}"
    return rng.choice(FIXED)


def lines(count: int, start: datetime, per_second: float, seed: int = 1) -> Iterator[tuple[str, str]]:
    """``count`` (host, line) pairs from ``start`` at ``per_second`` lines a second."""
    rng = random.Random(seed)
    agents = [a.format(v=rng.randint(1, 130)) for a in AGENTS for _ in range(8)]
    clients = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
               for _ in range(5000)]
    referers = ["-", "https://www.google.com/", "https://shop.example.com/", "https://shop.example.com/cart"]
    referers += [f"https://shop.example.com/products/{rng.randint(1, 50_000)}" for _ in range(200)]
    for i in range(count):
        at = start + timedelta(seconds=int(i / per_second))
        status = rng.choices((200, 304, 301, 404, 500, 502), (85, 6, 2, 5, 1, 1))[0]
        method = "POST" if rng.random() < 0.1 else "GET"
        client = clients[min(int(rng.paretovariate(1.2)) - 1, len(clients) - 1)]
        size, seconds = int(rng.lognormvariate(8, 1.5)), rng.lognormvariate(-3, 1)
        request = f"{method} {_path(rng)} HTTP/1.1"
        line = (f'{client} - - [{at:%d/%b/%Y:%H:%M:%S} +0000] "{request}" {status} {size}'
                f' "{rng.choice(referers)}" "{rng.choice(agents)}" {seconds:.3f}')
        yield f"web-{rng.randint(1, 20)}", line


def events(pairs: Iterator[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    """The events Dendro's nginx access program makes of (host, line) pairs."""
    parser = next(p for p in catalog()["nginx"].parsers if p.id == "nginx_access")
    for host, line in pairs:
        yield from run_events(parser, {"message": line, "host": host}, source="nginx_access_logs")
