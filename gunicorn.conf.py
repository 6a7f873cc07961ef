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
#: The collector's thresholds in a worker (gen0 allocations, gen1 and gen2 passes): see post_worker_init.
gc_thresholds = tuple(int(part) for part in os.environ.get("GC_THRESHOLDS", "50000,20,100").split(","))


def post_worker_init(worker):
    """The worker has loaded the app: its ~200,000 long-lived objects (routes, models, templates, the
    OpenAPI document) move to the collector's permanent generation, so a full collection no longer walks
    them. Before, each full pass paused the worker for 50–700 ms (more on a busy machine): the tail of
    every page's latency while the median stayed near a millisecond."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*gc_thresholds)
    if "GEVENT_TRACK_GREENLET_TREE" not in os.environ:
        import gevent

        # Each greenlet (Engine.IO starts two per connection and one per event) would capture its
        # spawner and a ten-frame stack: a tenth of a join's CPU, and objects only a full pass frees.
        gevent.config.track_greenlet_tree = False
