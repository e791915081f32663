#!/usr/bin/env python3
"""Writes an HR-style directory of N members (the columns of
shared/data/directory.csv) to stdout, for import benchmarks.

Managers form a tree (each member reports to one of the previous ones) and
rows are written in reverse, so most managers come *after* their reports.
"""
import csv
import random
import sys

DEPARTMENTS = ["Sales", "Research & Development", "Human Resources", "Support", "Finance"]
LOCATIONS = ["Dublin", "Austin", "Tokyo", "Bengaluru", "São Paulo", "Oslo", "Remote"]
FIRST = ["Ana", "Li", "Ravi", "Yuki", "Émile", "Zoë", "Oluwaseun", "राहुल", "佐藤", "María", "Søren", "O'Neil"]
LAST = ["Lima", "Wang", "Sharma", "Tanaka", "Zola", "Smith-Jones", "Okafor", "शर्मा", "花子", "García", "Ødegaard"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(42)
    out = csv.writer(sys.stdout, lineterminator="\r\n")
    out.writerow(["employee_id", "email", "first_name", "last_name", "display_name", "title", "department",
                  "location", "manager_email", "start_date", "birthday", "gender", "status"])
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        manager = "" if i == 0 else f"member.{rng.randrange(max(1, i // 2), i) if i > 1 else 0}@example.com"
        rows.append([
            f"B{i:07d}", f"member.{i}@example.com", first, last, f"{first} {last}",
            rng.choice(["Engineer", "Manager", "Analyst", "Director"]), rng.choice(DEPARTMENTS),
            rng.choice(LOCATIONS), manager,
            f"{rng.randrange(1995, 2026)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            f"{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", rng.choice(["Female", "Male", ""]),
            "active" if rng.random() < 0.85 else "inactive",
        ])
    for row in reversed(rows):
        out.writerow(row)


if __name__ == "__main__":
    main()
