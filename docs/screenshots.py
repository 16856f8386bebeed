"""Regenerate the README's screenshots: ``.venv/bin/python docs/screenshots.py``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui.app import RotationApp

HERE = Path(__file__).resolve().parent


async def main() -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 34)) as pilot:
        while app.solves == 0:
            await pilot.pause(0.1)
        for key, name in (("2", "screen"), ("3", "company"), ("5", "portfolio")):
            await pilot.press(key)
            await pilot.pause(0.3)
            app.save_screenshot(str(HERE / f"{name}.svg"))


if __name__ == "__main__":
    asyncio.run(main())
