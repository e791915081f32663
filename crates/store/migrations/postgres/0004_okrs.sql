-- OKRs and KPIs: cycles, objectives (aligned in a tree), key results,
-- check-ins, grades recorded on close, KPIs and their daily values.
-- Key-result and KPI numbers are double precision (currency: whole minor
-- units, exact in a double up to 2^53); dates are local `YYYY-MM-DD` text
-- in the organisation's time zone.

CREATE TABLE okr_settings (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    allow_over_achievement BOOLEAN NOT NULL,
    allow_late_check_ins BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE cycles (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    state TEXT NOT NULL,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cycles_org ON cycles (org_id, start_date, id);

CREATE TABLE objectives (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    cycle_id TEXT NOT NULL REFERENCES cycles(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    level TEXT NOT NULL,
    team TEXT,
    owner_id TEXT NOT NULL,
    parent_id TEXT,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX objectives_org_cycle ON objectives (org_id, cycle_id, id);
CREATE INDEX objectives_org_parent ON objectives (org_id, parent_id);

CREATE TABLE objective_contributors (
    org_id TEXT NOT NULL,
    objective_id TEXT NOT NULL REFERENCES objectives(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    PRIMARY KEY (org_id, objective_id, member_id)
);

CREATE TABLE key_results (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    objective_id TEXT NOT NULL REFERENCES objectives(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_value DOUBLE PRECISION NOT NULL,
    target_value DOUBLE PRECISION NOT NULL,
    current_value DOUBLE PRECISION NOT NULL,
    unit TEXT NOT NULL,
    weight BIGINT NOT NULL,
    owner_id TEXT NOT NULL,
    kpi_id TEXT,
    archived BOOLEAN NOT NULL,
    current_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX key_results_org_objective ON key_results (org_id, objective_id, created_at);
CREATE INDEX key_results_org_kpi ON key_results (org_id, kpi_id);

CREATE TABLE check_ins (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    key_result_id TEXT NOT NULL REFERENCES key_results(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    confidence TEXT NOT NULL,
    note TEXT NOT NULL,
    late BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX check_ins_org_kr ON check_ins (org_id, key_result_id, created_at, id);

-- subject: objective | key_result; one row each, written when the cycle closes.
CREATE TABLE grades (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    cycle_id TEXT NOT NULL REFERENCES cycles(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    progress DOUBLE PRECISION NOT NULL,
    grade DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, subject, subject_id)
);
CREATE INDEX grades_org_cycle ON grades (org_id, cycle_id);

CREATE TABLE kpis (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    direction TEXT NOT NULL,
    target DOUBLE PRECISION,
    warning DOUBLE PRECISION,
    critical DOUBLE PRECISION,
    cadence TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX kpis_org ON kpis (org_id, name);

CREATE TABLE kpi_values (
    org_id TEXT NOT NULL,
    kpi_id TEXT NOT NULL REFERENCES kpis(id) ON DELETE CASCADE,
    value_date TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, kpi_id, value_date)
);
