"""The VS Code workbench in a browser page, driven as a user does: keyboard, palette, clicks.

Every wait is on something on screen (a selector, a text) with a generous timeout: the machine
is shared and a first start is slow. `step()` saves a screenshot of the page when a step fails.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Locator, Page

#: Generous: code-server and the extension host start slowly on a loaded machine.
LONG = 120_000
SHORT = 30_000

ACTIVE_EDITOR = ".editor-group-container.active .monaco-editor .view-lines"
#: The editor showing an output document (a session's Markdown answer).
ANSWER_EDITOR = (".editor-group-container:has(.tab.active[aria-label*='.md'])"
                 " .monaco-editor .view-lines")
NOTIFICATION = ".notifications-toasts .notification-toast"
STATUS_REN = "#ren\\.ren-lsp\\.ren\\.status"


def plain(text: str) -> str:
    """The editor renders spaces as U+00A0 (and lines without breaks): normalise them."""
    return text.replace("\u00a0", " ")


class Workbench:
    def __init__(self, page: Page, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self._count = 0

    @contextlib.asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[None]:
        """A step of a scenario: a screenshot `NN-name.png` of the page if it fails."""
        self._count += 1
        try:
            yield
        except Exception as exc:
            self.shots.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            shot = self.shots / f"{self._count:02d}-{slug}.png"
            with contextlib.suppress(Exception):
                await self.page.screenshot(path=shot)
                exc.add_note(f"step {name!r} failed; the screen then: {shot}")
            raise

    async def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=path)

    # -- the workbench ----------------------------------------------------------------------

    async def open(self, url: str, folder: Path) -> None:
        await self.page.goto(f"{url}/?folder={folder}")
        await self.page.wait_for_selector(".explorer-folders-view .monaco-list-row", timeout=LONG)

    async def status(self) -> str:
        """The Ren status bar item's accessible label ("Ren: ready, no request running")."""
        item = self.page.locator(STATUS_REN)
        return plain(await item.get_attribute("aria-label") or "") if await item.count() else ""

    async def wait_status(self, pattern: str, wait_ms: float = LONG) -> str:
        await self.page.wait_for_function(
            """([selector, pattern]) => {
                 const item = document.querySelector(selector);
                 return item && new RegExp(pattern).test(item.getAttribute('aria-label') || '');
               }""",
            arg=[STATUS_REN, pattern], timeout=wait_ms)
        return await self.status()

    async def palette(self, command: str) -> None:
        """Runs a command from the palette by its title ("Ren: Explain selection")."""
        await self.page.keyboard.press("Control+Shift+P")
        box = self.page.locator(".quick-input-widget input")
        await box.wait_for(state="visible", timeout=SHORT)
        await box.fill(f">{command}")
        row = self.page.locator(".quick-input-list .monaco-list-row",
                                has=self.page.get_by_text(command, exact=True)).first
        await row.wait_for(state="visible", timeout=SHORT)
        # The list follows the typing: Enter runs the first match, which must be ours.
        await self.page.locator(
            ".quick-input-list .monaco-list-row.focused",
            has=self.page.get_by_text(command, exact=True)).wait_for(timeout=SHORT)
        await self.page.keyboard.press("Enter")

    async def palette_titles(self, query: str) -> list[str]:
        await self.page.keyboard.press("Control+Shift+P")
        box = self.page.locator(".quick-input-widget input")
        await box.wait_for(state="visible", timeout=SHORT)
        await box.fill(f">{query}")
        rows = self.page.locator(".quick-input-list .monaco-list-row")
        await rows.first.wait_for(state="visible", timeout=SHORT)
        titles = [plain(t) for t in await rows.evaluate_all(
            "els => els.map(e => e.getAttribute('aria-label') || '')")]
        await self.page.keyboard.press("Escape")
        return titles

    async def input_box(self) -> Locator:
        """The quick input's text box (an input box a command asked for), once shown."""
        box = self.page.locator(".quick-input-widget:not(.hidden) .quick-input-box input")
        await box.wait_for(state="visible", timeout=SHORT)
        return box

    # -- files and editors ------------------------------------------------------------------

    async def open_file(self, name: str) -> None:
        """Quick Open (Ctrl+P) the file, and wait for its editor tab to be active."""
        await self.page.keyboard.press("Control+P")
        box = self.page.locator(".quick-input-widget input")
        await box.wait_for(state="visible", timeout=SHORT)
        await box.fill(name)
        await self.page.locator(".quick-input-list .monaco-list-row.focused",
                                has_text=name).wait_for(timeout=SHORT)
        await self.page.keyboard.press("Enter")
        await self.page.locator(f".tab.active[aria-label^='{name}']").wait_for(timeout=SHORT)
        await self.page.locator(ACTIVE_EDITOR).wait_for(timeout=SHORT)

    async def focus_editor(self) -> None:
        await self.page.locator(ACTIVE_EDITOR).click()

    async def select_lines(self, first: int, count: int) -> None:
        """Selects `count` whole lines from line `first` (1-based), with the keyboard."""
        await self.focus_editor()
        await self.page.keyboard.press("Control+Home")
        for _ in range(first - 1):
            await self.page.keyboard.press("ArrowDown")
        for _ in range(count):
            await self.page.keyboard.press("Shift+ArrowDown")
        # The status bar tells when VS Code has the selection: "Ln 6, Col 1 (95 selected)".
        await self.page.locator("#status\\.editor\\.selection", has_text=re.compile(
            rf"Ln {first + count}, Col 1 \(\d+ selected\)")).wait_for(timeout=SHORT)

    async def editor_text(self, editor: str = ACTIVE_EDITOR) -> str:
        """An editor's visible lines (the active one's by default), in order."""
        lines = self.page.locator(editor).first.locator(".view-line")
        tops = await lines.evaluate_all(
            "els => els.map(e => [parseFloat(e.style.top) || 0, e.textContent || ''])")
        return "\n".join(plain(text) for _, text in sorted(tops))

    async def wait_editor_text(self, pattern: str, wait_ms: float = LONG,
                               editor: str = ACTIVE_EDITOR) -> str:
        """Waits until an editor (the active one) shows text matching `pattern` (a regex)."""
        await self.page.wait_for_function(
            """([selector, pattern]) => {
                 const view = document.querySelector(selector);
                 const text = (view ? view.textContent : '').replace(/\\u00a0/g, ' ');
                 return new RegExp(pattern).test(text);
               }""", arg=[editor, pattern], timeout=wait_ms)
        return await self.editor_text(editor)

    async def wait_answer_text(self, pattern: str, wait_ms: float = LONG) -> str:
        """Waits until the output document's editor shows text matching `pattern`."""
        return await self.wait_editor_text(pattern, wait_ms, ANSWER_EDITOR)

    async def active_tab(self) -> str:
        return plain(await self.page.locator(".tab.active").first.get_attribute("aria-label")
                     or "")

    async def editor_groups(self) -> int:
        return await self.page.locator(".editor-group-container").count()

    async def close_all_editors(self) -> None:
        """Closes every editor, unsaved changes dropped (output documents are on disk)."""
        await self.palette("View: Close All Editors")
        await self.page.wait_for_function(
            "() => !document.querySelector('.tab') || document.querySelector('.monaco-dialog-box')",
            timeout=SHORT)
        dialog = self.page.locator(".monaco-dialog-box")
        if await dialog.count():
            await dialog.locator(".monaco-button", has_text="Don't Save").click()
        await self.page.locator(".tab").first.wait_for(state="detached", timeout=SHORT)

    # -- notifications ----------------------------------------------------------------------

    def notification(self, pattern: str) -> Locator:
        return self.page.locator(NOTIFICATION).filter(has_text=re.compile(pattern))

    async def wait_notification(self, pattern: str, wait_ms: float = LONG) -> Locator:
        toast = self.notification(pattern).first
        await toast.wait_for(state="visible", timeout=wait_ms)
        return toast

    async def notification_text(self, toast: Locator) -> str:
        return plain(await toast.locator(".notification-list-item-message").inner_text())

    async def expand_notification(self, toast: Locator) -> None:
        """Shows a long notification whole (its chevron appears on hover)."""
        await toast.hover()
        chevron = toast.locator(".codicon-notifications-expand")
        if await chevron.count():
            await chevron.first.click()
            await toast.locator(".notification-list-item.expanded").wait_for(timeout=SHORT)

    async def click_notification_button(self, toast: Locator, label: str) -> None:
        await toast.locator(".monaco-button", has_text=re.compile(f"^{re.escape(label)}$")).click()

    async def clear_notifications(self) -> None:
        await self.palette("Notifications: Clear All Notifications")
        await self.page.locator(NOTIFICATION).first.wait_for(state="detached", timeout=SHORT)
