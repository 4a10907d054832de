"""sqlfluff stand-ins for dbt's cross-database macros used by the models."""


def type_string() -> str:
    return "text"


def date_trunc(datepart: str, expr: str) -> str:
    return f"date_trunc('{datepart}', {expr})"
