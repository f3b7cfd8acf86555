"""Tags in groups, as a screen plots them: a group is a tag's path up to its last ``/``.

``loss/train`` and ``loss/val`` are plotted together (group ``loss``, series ``train`` and ``val``);
``layers/grad_norm/fc1`` ... share ``layers/grad_norm``; a tag without ``/`` is a group of its own.
"""

from __future__ import annotations

from collections.abc import Iterable


def tag_group(tag: str) -> str:
    """The group ``tag`` is plotted in."""
    return tag.rsplit("/", 1)[0] if "/" in tag else tag


def series_label(tag: str) -> str:
    """What the tag is called inside its group's plot."""
    return tag.rsplit("/", 1)[1] if "/" in tag else tag


def tag_groups(tags: Iterable[str]) -> dict[str, list[str]]:
    """Each group's tags, groups and tags sorted."""
    groups: dict[str, list[str]] = {}
    for tag in sorted(tags):
        groups.setdefault(tag_group(tag), []).append(tag)
    return dict(sorted(groups.items()))


def thinned(points: list[tuple[float, float]], most: int) -> list[tuple[float, float]]:
    """At most about ``2 * most`` of ``points``: each of ``most`` runs of points keeps its lowest and highest.

    A long curve keeps its shape (spikes included) in a plot a few dozen columns wide, and plotting it
    costs the same however long the run. The last point is always kept.
    """
    if most < 1 or len(points) <= 2 * most:
        return list(points)
    kept: list[tuple[float, float]] = []
    size = len(points) / most
    for bucket in range(most):
        run = points[int(bucket * size) : int((bucket + 1) * size)]
        finite = [p for p in run if p[1] == p[1]]  # NaN never equals itself: a NaN run keeps its first point
        if not finite:
            kept.append(run[0])
            continue
        low, high = min(finite, key=lambda p: p[1]), max(finite, key=lambda p: p[1])
        kept.extend(sorted({low, high}))
    if kept[-1] != points[-1]:
        kept.append(points[-1])
    return kept
