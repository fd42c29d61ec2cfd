"""Run `pywats-client service ARGS` the way the console script does
(`from pywats_client.__main__ import main; sys.exit(main())`), with two test
seams, because 0.6.0rc1 hard-codes its state directory and has no setting
for it:

- /var/lib/pywats (config_<instance>.json, reports/, instances/) becomes
  $PYWATS_TEST_STATE_DIR: get_default_config_path() and
  get_instances_base_path() are the only two places the service reads it.
- the health server binds 127.0.0.1 instead of 0.0.0.0 (tests stay on loopback).

Optional: $PYWATS_TEST_RETRY_SECONDS shortens the pending queue's error retry
delay (5 min) and periodic check (60 s) so an outage test can finish.
"""
import os
import sys
from datetime import timedelta
from pathlib import Path

state = Path(os.environ["PYWATS_TEST_STATE_DIR"])

from pywats_client.core import config, service_manager
from pywats_client.service import health_server

_upstream_config_path = config.get_default_config_path


def get_default_config_path(instance_id=None):
    return state / _upstream_config_path(instance_id).name


config.get_default_config_path = get_default_config_path
service_manager.get_instances_base_path = lambda: state / "instances"
health_server.HealthServer.__init__.__defaults__ = (
    health_server.HealthServer.DEFAULT_PORT, "127.0.0.1")

retry = os.environ.get("PYWATS_TEST_RETRY_SECONDS")
if retry:
    from pywats_client.service.async_pending_queue import AsyncPendingQueue
    AsyncPendingQueue.ERROR_RETRY_DELAY = timedelta(seconds=float(retry))
    AsyncPendingQueue.PERIODIC_CHECK_INTERVAL = float(retry)

from pywats_client.__main__ import main  # noqa: E402

sys.argv = ["pywats-client", "service", *sys.argv[1:]]
sys.exit(main())
