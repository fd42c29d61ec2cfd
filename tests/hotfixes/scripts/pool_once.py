"""Run the client's AsyncConverterPool against the config file argv[1] until
its watch folders are empty or argv[2] seconds have passed, then print the
pool's facts as JSON. Talks to the server named in the config (the stand-in).
"""
import asyncio
import json
import sys
import time
from pathlib import Path

from pywats import AsyncWATS
from pywats_client.core.config import ClientConfig
from pywats_client.service.async_converter_pool import AsyncConverterPool


def waiting(folders):
    return [f.name for w in folders for f in w.iterdir() if f.is_file()]


async def main(config_path, wait):
    config = ClientConfig.load(Path(config_path))
    folders = [Path(c.watch_folder) for c in config.converters]
    async with AsyncWATS(base_url=config.service_address, token=config.api_token) as api:
        pool = AsyncConverterPool(config=config, api=api)
        task = asyncio.create_task(pool.run())
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if pool.is_running and not waiting(folders) and pool.stats["active_conversions"] == 0:
                break
        facts = {
            "loaded": [type(c).__name__ for c in pool._converters],
            "stats": pool.stats,
            "left_in_watch": waiting(folders),
        }
        await pool.stop()
        task.cancel()
    print(json.dumps(facts))


asyncio.run(main(sys.argv[1], float(sys.argv[2])))
