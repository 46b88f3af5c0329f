"""Lesson 14: Python objects held by Rust objects, and the garbage collector."""

import gc
import weakref

from target.debug.references import Holder, Log, Signal, drop_on_thread


class Window:
    def on_close(self):
        return "closed"


# A cycle through a Holder: window -> holder -> window. The collector
# cannot see the holder's reference, so the window is never freed.
window = Window()
window.holder = Holder(window)
alive = weakref.ref(window)
del window
gc.collect()
print("through a Holder, still alive:", alive() is not None)

# The same cycle through a Signal, which has __traverse__ and __clear__.
window = Window()
window.closed = Signal()
window.closed.connect(window.on_close)
print(window.closed.emit())
alive = weakref.ref(window)
del window
gc.collect()
print("through a Signal, still alive:", alive() is not None)

# A cursor keeps the log's lines on loan, and refuses them once changed.
log = Log()
log.append("started")
log.append("ready")
cursor = log.cursor()
print(cursor.read(), cursor.position)
log.append("stopped")
try:
    cursor.read()
except RuntimeError as error:
    print("RuntimeError:", error)


# An object that only Rust held, dropped on a Rust thread: gone by the
# time the call returns (on which thread it died depends on the binding).
freed = []


class Noisy:
    def __del__(self):
        freed.append(True)


drop_on_thread(Noisy)
print("freed when drop_on_thread returned:", freed == [True])
