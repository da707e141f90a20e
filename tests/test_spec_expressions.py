"""Issue 9 §1: a spec's Spark SQL expressions are checked on their parse tree. Every spelling of
a call to Java (backticks, comments, qualified names, case) is refused with `function X is not
allowed`; the expressions data engineers write pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines import SpecError, load_spec
from pipelines.expressions import expression_problem

COLUMNS = ("order_id", "qty", "price", "ts", "name", "email", "day")

SPEC = """\
name: orders
source: {path: landing/orders.csv, format: csv}
schema:
  - {name: order_id, type: string, nullable: false}
  - {name: qty, type: int}
  - {name: ts, type: timestamp}
target: {table: sales.orders}
transformations:
  - derive: {column: x, type: string, expr: EXPR}
"""

ALLOWED = [
    "qty * 2",
    "upper(name)",
    "UPPER(name)",
    "lower(trim(name))",
    "concat_ws('-', order_id, name)",
    "coalesce(qty, 0) + 1",
    "CASE WHEN qty > 1 THEN 'many' ELSE 'one' END",
    "if(qty > 1, 'x', NULL)",
    "cast(qty AS decimal(10,2))",
    "CAST(price AS DOUBLE)",
    "try_cast(name AS INT)",
    "qty::bigint",
    "to_date(ts, 'yyyy-MM-dd')",
    "date_format(ts, 'yyyy-MM')",
    "date_trunc('MONTH', ts)",
    "extract(year FROM ts)",
    "ts + interval 1 day",
    "datediff(current_date(), to_date(ts))",
    "current_timestamp()",
    "current_date",
    "sha2(email, 256)",
    "md5(concat(order_id, name))",
    "xxhash64(order_id)",
    "regexp_extract(email, '@(.*)$', 1)",
    "regexp_replace(name, '[^a-z]', '')",
    "email RLIKE '^[a-z]+@'",
    "name LIKE 'a%'",
    "qty BETWEEN 1 AND 10",
    "qty IN (1, 2, 3)",
    "name IS NOT NULL AND NOT (qty < 0)",
    "nvl(qty, 0) % 2 = 0",
    "round(price * 1.2, 2)",
    "greatest(qty, 1)",
    "substring(name, 1, 3)",
    "`qty` + 1",
    "`QTY` > 0",  # Spark resolves column names case-insensitively
    "'a;b' = name",  # a ';' inside a string is text
    "'reflect(1)' = name",  # so is a function name
    '"java_method" = name',  # double quotes are strings in Spark SQL
    "qty > 0 -- a comment",
    "/* a comment */ qty > 0",
    "left(name, 2)",
    "split_part(email, '@', 2)",
    "`day` = 1",
    "if(qty < 0, raise_error('negative quantity'), qty)",  # a data contract stops the job
    "assert_true(qty >= 0)",
]

REFUSED = [
    # every spelling of reflect / java_method from issue 9, and more
    ("reflect('java.lang.System', 'getProperty', 'user.name')", "function reflect is not allowed"),
    ("`reflect`('java.lang.System','getProperty','user.name')", "function reflect is not allowed"),
    (
        "reflect/**/('java.lang.System','getProperty','user.name')",
        "function reflect is not allowed",
    ),
    ("Java_Method /* x */ ('java.lang.System', 'getenv')", "function Java_Method is not allowed"),
    ("JAVA_METHOD('java.lang.System', 'getenv')", "function JAVA_METHOD is not allowed"),
    ("java_method\t('x', 'y')", "function java_method is not allowed"),
    ("try_reflect('java.lang.System', 'getenv')", "function try_reflect is not allowed"),
    ("ReFlEcT ( 'x', 'y' )", "function ReFlEcT is not allowed"),
    ("`system`.`builtin`.`reflect`('java.lang.System', 'getenv')", "system.builtin.reflect"),
    ("system.builtin.reflect('x', 'y')", "system.builtin.reflect"),
    ("builtin.upper(name)", "builtin.upper"),
    ("upper(reflect('x', 'y'))", "function reflect is not allowed"),
    ("coalesce(name, `java_method`('x', 'y'))", "function java_method is not allowed"),
    ("/* upper( */ reflect('x')", "function reflect is not allowed"),
    ("/* /* nested */ */ reflect('x')", "function reflect is not allowed"),
    ("my_udf(name)", "function my_udf is not allowed"),
    ("current_user()", "function current_user is not allowed"),
    ("session_user()", "function session_user is not allowed"),
    ("count(*)", "function count is not allowed"),
    ("sum(qty) OVER (PARTITION BY name)", "function sum is not allowed"),
    # no lambda, no subquery, no second statement
    ("transform(array(qty), x -> x + 1)", "function transform is not allowed"),
    ("exists(array(qty), x -> x > 1)", "function exists is not allowed"),
    ("coalesce(x -> 1)", "a lambda is not allowed"),
    ("upper(x -> reflect('java.lang.System', 'getenv'))", "function reflect is not allowed"),
    ("qty IN (SELECT 1)", "a subquery is not allowed"),
    ("(SELECT max(qty) FROM orders)", "is not allowed"),
    ("exists(SELECT 1)", "function exists is not allowed"),
    ("qty = (SELECT 1)", "a subquery is not allowed"),
    ("qty > 0; DROP TABLE sales.orders", "without ';'"),
    ("qty > 0;", "without ';'"),
    # columns that do not exist at that point, qualified names, stars
    ("nope + 1", "no column 'nope'"),
    ("orders.qty > 0", "qualified name"),
    ("`orders`.`qty` > 0", "qualified name"),
    ("*", "'*' is not allowed"),
    # Spark substitutes ${...} in the SQL text it parses, inside strings too
    ("'${env:AWS_SECRET_ACCESS_KEY}'", "'${' is not allowed"),
    ("name || '${system:user.name}'", "'${' is not allowed"),
    ("upper('${spark:spark.app.name}')", "'${' is not allowed"),
    ("raise_error('${env:X}')", "'${' is not allowed"),
    ("r'${env:X}'", "'${' is not allowed"),
    ("concat('$', '{env:X}', ${x})", "'${' is not allowed"),
    ("'${hivevar:x}'", "'${' is not allowed"),
    # who runs the job is not a value of the row, with or without parentheses
    ("current_user", "current_user is not allowed"),
    ("session_user", "session_user is not allowed"),
    ("name || current_user", "current_user is not allowed"),
    # nesting deeper than anyone writes: refused before the parser recurses
    ("(" * 3000 + "qty" + ")" * 3000, "nested more than"),
    ("upper(" * 500 + "name" + ")" * 500, "nested more than"),
    # not an expression at all
    ("upper(", "not a Spark SQL expression"),
    ("'unterminated", "not a Spark SQL expression"),
]


@pytest.mark.parametrize("expr", ALLOWED)
def test_expressions_data_engineers_write_pass(expr):
    assert expression_problem(expr, COLUMNS) is None


@pytest.mark.parametrize(("expr", "problem"), REFUSED)
def test_calls_out_of_the_allow_list_are_refused(expr, problem):
    found = expression_problem(expr, COLUMNS)
    assert found is not None, expr
    assert problem in found, found


def _spec(tmp_path: Path, expr: str) -> Path:
    path = tmp_path / "pipelines" / "orders.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SPEC.replace("EXPR", json.dumps(expr, ensure_ascii=False)), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "expr",
    [
        "`reflect`('java.lang.System','getProperty','user.name')",
        "reflect/**/('java.lang.System','getProperty','user.name')",
        "Java_Method /* x */ ('java.lang.System', 'getenv', 'HOME')",
        "`system`.`builtin`.`reflect`('java.lang.System','getProperty','user.name')",
    ],
)
def test_a_spec_calling_java_names_file_line_and_field(tmp_path, expr):
    path = _spec(tmp_path, expr)
    with pytest.raises(SpecError) as caught:
        load_spec(path, tmp_path)
    error = caught.value
    assert (error.line, error.field) == (9, "transformations[0].derive.expr"), str(error)
    assert str(error).startswith(f"{path}:9: transformations[0].derive.expr: function ")
    assert "is not allowed" in str(error)


def test_a_derived_column_is_known_to_the_next_step(tmp_path):
    path = _spec(tmp_path, "upper(order_id)")
    text = path.read_text() + "  - filter: {expr: \"x <> '' AND qty > 0\"}\n"
    path.write_text(text)
    spec = load_spec(path, tmp_path)
    assert [s.expr for s in spec.transformations] == ["upper(order_id)", "x <> '' AND qty > 0"]
    path.write_text(text.replace("x <> ''", "y <> ''"))
    with pytest.raises(SpecError, match=r"transformations\[1\]\.filter\.expr: no column 'y'"):
        load_spec(path, tmp_path)
