"""Run the client's AsyncPendingQueue over the reports folder argv[3] with
the server argv[1] (token argv[2]) until no .queued or .processing file is
left or argv[4] seconds have passed; print the folder's files as JSON."""
import asyncio
import json
import sys
import time
from pathlib import Path

from pywats import AsyncWATS
from pywats_client.service.async_pending_queue import AsyncPendingQueue


async def main(url, token, reports, wait):
    reports = Path(reports)
    async with AsyncWATS(base_url=url, token=token) as api:
        queue = AsyncPendingQueue(api=api, reports_dir=reports)
        task = asyncio.create_task(queue.run())
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            busy = list(reports.glob("*.queued")) + list(reports.glob("*.processing"))
            if queue.is_running and not busy:
                break
        await queue.stop()
        task.cancel()
    print(json.dumps(sorted(p.name for p in reports.iterdir())))


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
