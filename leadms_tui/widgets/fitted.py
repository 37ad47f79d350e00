"""A Static whose height follows its content on every update."""

from textual.visual import VisualType
from textual.widgets import Static


class Fitted(Static):
    """A `height: auto` Static that is measured again after each update.

    Textual 8 race: content that arrives after the widget's first layout but before its
    first idle (data loaded quickly by a worker) keeps the height of the empty widget,
    until something else lays it out. A second layout once this one is done measures it.
    """

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(content, layout=layout)
        if layout:
            self.call_after_refresh(self.refresh, layout=True)
