"""Lesson 7: what Python sees when Rust gives up, and when it need not."""

from target.debug import panics

print("first([3, 1]):", panics.first([3, 1]))
try:
    panics.first([])
except IndexError as error:
    print("IndexError:", error)

try:
    panics.panic_in_rust("something broke")
except BaseException:  # SystemError here; PanicException in the PyO3 twin
    print("panic_in_rust: the panic came back as an exception")
print("and the interpreter goes on")
