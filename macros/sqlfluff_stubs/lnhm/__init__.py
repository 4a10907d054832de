"""sqlfluff stand-ins for the project's macros: `lnhm.<macro>(args)` renders `<macro>(args)`."""

_LITERAL_HINTS = set("^$[]|\\{}?")


def _arg(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_arg(v) for v in value) or "null"
    text = str(value)
    if _LITERAL_HINTS & set(text):  # a regex pattern: render it as a string literal
        return "'" + text.replace("'", "''") + "'"
    return text


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)

    def call(*args, **kwargs) -> str:
        rendered = [_arg(a) for a in args] + [_arg(v) for v in kwargs.values()]
        return f"{name}({', '.join(rendered)})"

    return call
