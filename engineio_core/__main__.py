"""``python -m engineio_core``: list the installed async modes and what each server would use."""

from __future__ import annotations

from engineio_core.plugin.manager import format_modes_table


def main() -> None:
    print(format_modes_table())


if __name__ == "__main__":
    main()
