"""The explorer app: its screens (playground, arithmetic, backprop), the keys that switch them, quitting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

# what every screen shares: a title line over a padded body (each screen's own layout is in its DEFAULT_CSS)
CSS = """
Screen { layout: vertical; }
.screen-title { height: auto; padding: 0 1; background: $boost; text-style: bold; }
.panel { padding: 0 1; }
"""


class Keys(Footer):
    """Textual's footer, rebuilt once for all the binding changes that arrive before the next refresh: a screen's
    start brings several in a row (the screen pushed, a widget focused, then another, the app focused) and each
    rebuilt every key, 17 ms apiece, before the playground's first pictures."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = False

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if not self.waiting:
            self.waiting = True
            self.call_after_refresh(self.rebuild, screen)

    def rebuild(self, screen: Screen[Any]) -> None:
        self.waiting = False
        super().bindings_changed(screen)


def arrows(action: str, step: int = 1, priority: bool = False) -> list[Binding]:
    """The four arrow keys bound to ``action(dy, dx)``, a ``step`` at a time; hidden from the footer
    (each screen's ? list says what they move)."""
    moves = {"up": (-step, 0), "down": (step, 0), "left": (0, -step), "right": (0, step)}
    prefix = "shift+" if step > 1 else ""
    return [
        Binding(f"{prefix}{key}", f"{action}({dy}, {dx})", action, show=False, priority=priority)
        for key, (dy, dx) in moves.items()
    ]


COMMON_KEYS = [
    ("1  2  3", "the playground, arithmetic and backprop screens"),
    ("Ctrl+S", "save this screen as an SVG picture (its name is said; in a browser tab, a download)"),
    ("?", "this list of keys (↑ ↓ PgUp PgDn scroll it)"),
    ("q  Ctrl+C", "quit (the playground prints its convcli apply command)"),
]


def key_table(keys: list[tuple[str, str]]) -> Table:
    """Keys and what they do, for the ? overlay."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for key, what in keys:
        table.add_row(key, what)
    return table


class KeysScreen(ModalScreen[None]):
    """The ? overlay: every key of the screen below it."""

    DEFAULT_CSS = """
    KeysScreen { align: center middle; }
    #keys { width: 64; max-width: 95%; height: auto; max-height: 90%; overflow-y: auto; border: round $accent;
            padding: 0 1; background: $panel; }
    """
    BINDINGS: ClassVar = [Binding("escape,question_mark,q", "app.pop_screen", "close")]

    def __init__(self, title: str, keys: list[tuple[str, str]]):
        super().__init__()
        self.title_text, self.keys = title, keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keys"):  # focused: the arrows and the page keys scroll a list taller than the screen
            yield Static(Group(Text(self.title_text + " (Esc closes)\n", style="bold"), key_table(self.keys)))

    def on_mount(self) -> None:
        self.query_one("#keys", VerticalScroll).focus()


class ExploreApp(App[None]):
    """Screens by name: 'play' (needs an image), 'shape', 'backprop'; 1, 2, 3 switch between those present."""

    CSS = CSS
    TITLE = "convcli explore"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar = [
        Binding("q", "quit", "quit"),
        Binding("ctrl+s", "save_screen", "save", priority=True),
        Binding("question_mark", "keys", "keys", show=False),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
        Binding("1", "show('play')", "kernels", show=False),
        Binding("2", "show('shape')", "arithmetic", show=False),
        Binding("3", "show('backprop')", "backprop", show=False),
    ]

    def __init__(self, screens: dict[str, Callable[[], Screen[Any]]], first: str, hint: str = ""):
        super().__init__()
        self.makers, self.first, self.hint = screens, first, hint
        self.made: dict[str, Screen[Any]] = {}

    def get_default_screen(self) -> Screen[Any]:
        """The first screen itself, at the bottom of the stack: one screen composed and drawn before the first
        picture rather than Textual's blank one and then this (30 ms of start-up)."""
        self.made[self.first] = self.makers[self.first]()  # its options were checked before the app started
        return self.made[self.first]

    def on_mount(self) -> None:
        if self.hint:
            self.notify(self.hint, timeout=12)

    def action_show(self, name: str) -> None:
        if name not in self.makers:
            how = {"play": "the kernel playground needs an image: convcli explore IMAGE"}.get(name, name)
            self.notify(f"not in this run: {how}", severity="warning")
            return
        if name not in self.made:
            try:
                self.made[name] = self.makers[name]()
            except Exception as err:  # a setting of the command line that this screen cannot draw
                message = getattr(err, "message", None) or str(err)
                self.notify(f"no {name} screen with these options: {message}", severity="error", timeout=8)
                return
            self.install_screen(self.made[name], name)
        if self.screen is self.made[name]:
            return
        if name == self.first:  # the bottom of the stack: back down to it
            while len(self.screen_stack) > 1:
                self.pop_screen()
        elif len(self.screen_stack) > 1:
            self.switch_screen(name)
        else:
            self.push_screen(name)

    def action_save_screen(self) -> None:
        """Ctrl+S: the screen as Textual's SVG screenshot, under the first free convcli-<screen>-<n>.svg here."""
        from pathlib import Path

        name = getattr(self.screen, "id", None) or "keys"
        n = 1
        while Path(f"convcli-{name}-{n}.svg").exists():
            n += 1
        filename = f"convcli-{name}-{n}.svg"
        try:
            self.deliver_screenshot(filename, ".")  # Textual says where it went (a download in a browser tab)
        except OSError as err:
            self.notify(f"not saved: {err.strerror or err}", severity="error")

    def action_keys(self) -> None:
        if isinstance(self.screen, KeysScreen):
            return
        own = getattr(self.screen, "KEYS", [])
        self.push_screen(KeysScreen(getattr(self.screen, "NAME", "Keys"), own + COMMON_KEYS))

    def farewell(self) -> list[str]:
        """Lines to print once the terminal is restored: the playground's `convcli apply` command lines."""
        return [line for screen in self.made.values() for line in getattr(screen, "farewell", list)()]
