"""Load one converter entry per module_path in argv[2:] (watch folders under
argv[1]) through the client's AsyncConverterPool and print, as JSON, what
loaded: class name, base classes and the settings the pool reads."""
import asyncio
import json
import sys
from pathlib import Path

from pywats_client.core.config import ClientConfig, ConverterConfig
from pywats_client.service.async_converter_pool import AsyncConverterPool


async def main(base, module_paths):
    converters = []
    for i, module_path in enumerate(module_paths):
        watch = Path(base) / f"w{i}"
        converters.append(ConverterConfig(
            name=f"c{i}", module_path=module_path, watch_folder=str(watch),
            done_folder=str(watch / "Done"), error_folder=str(watch / "Error"),
            pending_folder=str(watch / "Pending"), converter_type="file",
            file_patterns=["*.xml", "*.txt"], post_action="move"))
    pool = AsyncConverterPool(config=ClientConfig(converters=converters), api=None)
    await pool._load_converters()
    print(json.dumps([{
        "class": type(c).__name__,
        "module": type(c).__module__,
        "watch_path": str(c.watch_path),
        "archive_path": str(c.archive_path),
        "error_path": str(c.error_path),
        "action": c.post_process_action.value,
        "matches": [c.matches_file(Path(n)) for n in ("a.XML", "b.txt", "c.json")],
    } for c in pool._converters]))


asyncio.run(main(sys.argv[1], sys.argv[2:]))
