"""How long a todo added in one tab of the todo demo takes to show in another tab.

Serves examples/todo (``python -m flask_sockpub run``, the async mode given),
opens two tabs of it in headless Chromium (Debian's, through Playwright), adds
todos in the first and, for each, takes the time from the form's submit event
to the row appearing in the second tab (a MutationObserver there). Both tabs
read the same clock (Date.now()). Prints the median, the 90th percentile and the
largest, in milliseconds; the same for ticking (update) and deleting.

    .venv/bin/python -m bench.todo_delay [--rounds 50] [--async-mode threading]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from flask_sockpub.testing import live_server
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

#: Installed in the watching tab: the time each row appeared, changed or went.
WATCH_JS = """() => {
  window.seenAt = {};
  const now = () => Date.now();
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.id && node.id.startsWith('todo-')) seenAt[`create ${node.dataset.id}`] = now();
      }
      for (const node of mutation.removedNodes) {
        if (node.id && node.id.startsWith('todo-')) seenAt[`destroy ${node.dataset.id}`] = now();
      }
      if (mutation.type === 'attributes' && mutation.target.classList.contains('done')) {
        seenAt[`update ${mutation.target.dataset.id}`] = now();
      }
    }
  }).observe(document.getElementById('todos'), {childList: true, subtree: true, attributes: true, attributeFilter: ['class']});
}"""

#: Run in the acting tab: does one change the way a person would, returns when it was made.
ACT_JS = {
    "create": """(title) => {
        const started = Date.now();
        document.getElementById('title').value = title;
        document.getElementById('new-todo').requestSubmit();
        return started;
    }""",
    "update": """(id) => {
        const started = Date.now();
        document.querySelector(`#todo-${id} input`).click();
        return started;
    }""",
    "destroy": """(id) => {
        const started = Date.now();
        document.querySelector(`#todo-${id} button`).click();
        return started;
    }""",
}


def delay(actor: Page, watcher: Page, verb: str, argument: object, key: str) -> float:
    watcher.evaluate("() => { window.seenAt = {}; }")  # SQLite reuses the ids of deleted rows
    started = actor.evaluate(ACT_JS[verb], argument)
    watcher.wait_for_function(f"() => window.seenAt[{key!r}]", timeout=5000)
    return float(watcher.evaluate(f"() => window.seenAt[{key!r}]")) - float(started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument(
        "--async-mode", default="threading", choices=("threading", "gevent", "eventlet")
    )
    args = parser.parse_args()
    delays: dict[str, list[float]] = {"create": [], "update": [], "destroy": []}
    with tempfile.TemporaryDirectory() as folder:
        env = {"DATABASE_URL": f"sqlite:///{Path(folder) / 'todo.sqlite'}"}
        with live_server(
            "examples.todo.app:create_app", env=env, async_mode=args.async_mode
        ) as server:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                actor, watcher = browser.new_page(), browser.new_page()
                for page in (actor, watcher):
                    page.goto(server.url + "/")
                    page.wait_for_function("() => socket.isConnected()")
                watcher.evaluate(WATCH_JS)
                for round_ in range(args.rounds):
                    title = f"todo {round_}"
                    watcher.evaluate("() => { window.seenAt = {}; }")
                    started = actor.evaluate(ACT_JS["create"], title)
                    watcher.wait_for_function(
                        f"() => [...document.querySelectorAll('#todos .title')].some((t) => t.textContent === {title!r})",
                        timeout=5000,
                    )
                    id_ = watcher.evaluate(
                        f"() => [...document.querySelectorAll('#todos li')].find((li) => li.textContent.includes({title!r})).dataset.id"
                    )
                    delays["create"].append(
                        float(watcher.evaluate(f"() => seenAt['create {id_}']")) - started
                    )
                    delays["update"].append(delay(actor, watcher, "update", id_, f"update {id_}"))
                    delays["destroy"].append(
                        delay(actor, watcher, "destroy", id_, f"destroy {id_}")
                    )
                browser.close()
    print(
        f"todo demo, {args.async_mode}, {args.rounds} rounds: ms from one tab's action to the other tab's DOM"
    )
    for verb, values in delays.items():
        values.sort()
        p90 = values[int(len(values) * 0.9) - 1]
        print(
            f"  {verb:8} median {statistics.median(values):6.1f}  p90 {p90:6.1f}  max {values[-1]:6.1f}"
        )


if __name__ == "__main__":
    main()
