-- partner-sandbox: the orders it pushed, what it asked lending, the callbacks it received, its fault knobs.
create table sim_orders (
  order_no text primary key,
  name text not null,
  mobile text not null,
  id_number text not null,
  loan_amount bigint not null,
  loan_term integer not null,
  created_at timestamptz not null default now()
);

-- Every call the sandbox made to lending for an order, and lending's answer.
create table sim_actions (
  id bigserial primary key,
  order_no text not null,
  action text not null,
  http_status integer,
  answer jsonb not null,
  created_at timestamptz not null default now()
);
create index sim_actions_by_order on sim_actions (order_no, id);

-- Verified callbacks, once per eventId; repeats only count.
create table received_callbacks (
  event_id text primary key,
  event text not null,
  order_no text not null,
  biz jsonb not null,
  repeats integer not null default 0,
  received_at timestamptz not null default now(),
  last_received_at timestamptz not null default now()
);
create index received_callbacks_by_order on received_callbacks (order_no, received_at);

-- Deliveries seen per eventId, for the fault knob that fails the first N of each.
create table callback_deliveries (
  event_id text primary key,
  deliveries integer not null default 0
);

create table faults (
  id integer primary key check (id = 1),
  fail_first integer not null check (fail_first >= 0),
  delay_ms integer not null check (delay_ms between 0 and 60000),
  updated_at timestamptz not null default now()
);
