"""The explorer's o key: export the model to ONNX beside its file (``<stem>.onnx``, then ``-2``, ``-3``…), in a worker.

The export is ``nnview export``'s (:func:`tui.core.export.onnx_export.export_onnx`) on the model and
the batch on screen, holding the session's lock (so never during a training step); it never writes
over a file. What it found, or why it failed, comes back as a notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from tui.core.guest.threads import Abandoned, call_bounded
from tui.core.records import ErrorRecord, NnviewError

if TYPE_CHECKING:  # the export imports torch: it loads in the worker, never before the first frame
    from tui.core.export.records import OnnxExport
    from tui.core.session import ModelSession


@dataclass
class OnnxExported(Message):
    """An export from the explorer finished: ``text`` says what was written and checked, else ``error``."""

    text: str
    verified: bool = True
    error: ErrorRecord | None = None


class OnnxExportScreen(Screen[None]):
    """A screen whose session's model can be written as ONNX beside its file (mixed into the explorer)."""

    session: ModelSession
    shown: str | None  # "trace" or "error": what the explorer's body shows

    def action_export_onnx(self) -> None:
        """Export the model to ONNX beside its file, for Netron; never overwrites."""
        # After a failed reload the session still holds the model before it: not what the screen shows.
        if self.session.loaded is None or self.session.example is None or self.shown == "error":
            self.notify("Nothing to export yet: wait for the layer table, or fix the error shown", severity="warning")
            return
        self.export_onnx_worker()

    @work(thread=True, exclusive=False, group="onnx", exit_on_error=False)
    def export_onnx_worker(self) -> None:
        """Export in a daemon thread of its own (a forward that never returns cannot hold up q); post the outcome."""
        worker = get_current_worker()
        try:
            result = call_bounded(self._export, cancelled=lambda: worker.is_cancelled)
        except Abandoned:
            return
        except NnviewError as exc:
            self.post_message(OnnxExported("", False, exc.record))
            return
        except Exception as exc:  # noqa: BLE001 - a failing export must show, never end the app
            from tui.core.trace.own_errors import internal_record

            self.post_message(OnnxExported("", False, internal_record(exc, "exporting to ONNX")))
            return
        self.post_message(OnnxExported(result_text(result), result.verified))

    def _export(self) -> OnnxExport:
        """Write ``<stem>.onnx`` (or the next free ``-N``) beside the model file, holding the model's lock."""
        from tui.core.export.onnx_export import export_onnx
        from tui.core.export.out_path import free_name_beside

        with self.session.lock:  # waits for a training step in flight
            loaded, example = self.session.loaded, self.session.example
            assert loaded is not None and example is not None
            model_file = model_file_of(self.session.options.model_ref, loaded.user_files, loaded.name)
            return export_onnx(loaded, example, free_name_beside(model_file), beside=model_file)

    def on_onnx_exported(self, message: OnnxExported) -> None:
        """Say what was written and how it compared with PyTorch, or why the export failed."""
        error = message.error
        if error is not None:
            where = f" in {error.layer} ({error.type})" if error.layer else (f" in {error.type}" if error.type else "")
            at = f" at {error.location}" if error.location else ""
            text = f"{error.message}{where}{at} — {error.hint}"
            self.notify(text, title="ONNX export failed", severity="error", timeout=20)
            return
        if message.verified:
            self.notify(message.text, title="ONNX export", timeout=10)
        else:  # written, but onnxruntime disagrees with PyTorch: the user should not miss it
            self.notify(message.text, title="ONNX export", severity="warning", timeout=20)


def model_file_of(model_ref: str, user_files: tuple[str, ...], name: str) -> Path:
    """The model's file (``FILE[:NAME]``), else the module's file (``pkg.module:attr``), else ``./<name>.py``."""
    from tui.core.load.model_refs import parse_model_ref

    try:
        ref = parse_model_ref(model_ref)
    except NnviewError:
        ref = None
    if ref is not None and ref.is_file:
        return Path(ref.location)
    return Path(user_files[0]) if user_files else Path(f"{name}.py")


def result_text(result: OnnxExport) -> str:
    """One notification: the file written, and onnxruntime's verdict (or why there is none)."""
    written = f"Wrote {result.path} (ONNX opset {result.opset}, {result.size_bytes / 1024:,.1f} KiB)"
    return "\n".join([written, *result.findings()])
