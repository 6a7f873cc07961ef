"""gunicorn settings for `make serve`: one gevent worker per core holds many connections."""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", max(1, multiprocessing.cpu_count())))
#: gevent's default is 1,000; a fair has 400+ people, each with a socket and page loads.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
