-- lending: partner orders, borrows, plans, repayments, depository calls, ledger mirror, callbacks.
-- The partner-order and borrow state machines live in the database: a status may only change along
-- a row of its transition table, rows start at 0, and orders and borrows are never deleted.

create table order_statuses (status smallint primary key, name text not null);
insert into order_statuses values
  (0, 'pushed'), (2, 'credit data pulled'), (10, 'parsed'), (11, 'credit applied'),
  (12, 'approved, awaiting confirmation'), (1, 'borrow created'), (4, 'refused by credit'), (5, 'expired');

create table order_transitions (
  from_status smallint not null references order_statuses,
  to_status smallint not null references order_statuses,
  primary key (from_status, to_status)
);
insert into order_transitions values (0, 2), (2, 10), (10, 11), (11, 12), (11, 4), (12, 1), (12, 5);

create table borrow_statuses (status smallint primary key, name text not null);
insert into borrow_statuses values
  (0, 'created'), (10, 'in risk review'), (20, 'approved'), (13, 'disbursing'), (30, 'disbursed, repaying'),
  (40, 'repaid'), (41, 'repaid, penalty waived'), (27, 'refused'), (31, 'disbursement failed, retried');

create table borrow_transitions (
  from_status smallint not null references borrow_statuses,
  to_status smallint not null references borrow_statuses,
  primary key (from_status, to_status)
);
insert into borrow_transitions values
  (0, 10), (10, 20), (10, 27), (20, 13), (20, 27), (13, 30), (13, 31), (31, 13), (31, 27), (30, 40), (30, 41);

-- Every status change must be a row of the table named by the trigger's argument.
create function enforce_status_transition() returns trigger language plpgsql as $$
declare
  allowed boolean;
begin
  if tg_op = 'INSERT' then
    if new.status <> 0 then
      raise exception '% must start at status 0, not %', tg_table_name, new.status using errcode = 'check_violation';
    end if;
    return new;
  end if;
  if new.status is distinct from old.status then
    execute format('select exists (select 1 from %I where from_status = $1 and to_status = $2)', tg_argv[0])
      into allowed using old.status, new.status;
    if not allowed then
      raise exception '% %: status % -> % is not an allowed transition', tg_table_name, old.id, old.status, new.status
        using errcode = 'check_violation';
    end if;
    new.status_changed_at := now();
  end if;
  new.updated_at := now();
  return new;
end $$;

create function refuse_delete() returns trigger language plpgsql as $$
begin
  raise exception '% rows are never deleted', tg_table_name using errcode = 'restrict_violation';
end $$;

create table partner_orders (
  id bigserial primary key,
  order_no text not null unique check (order_no ~ '^[A-Za-z0-9_-]{1,64}$'),
  status smallint not null default 0 references order_statuses,
  loan_amount bigint not null check (loan_amount > 0),
  loan_term integer not null check (loan_term > 0),
  name text not null,
  mobile text not null check (mobile ~ '^1[0-9]{10}$'),
  id_number text not null check (id_number ~ '^[0-9]{17}[0-9X]$'),
  mobile_md5 char(32) not null,
  id_number_md5 char(32) not null,
  user_no text,
  approved_amount bigint check (approved_amount > 0),
  refusal_reason text,
  card_bound boolean not null default false,
  features jsonb,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  approved_at timestamptz,
  confirm_deadline timestamptz,
  refused_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  status_changed_at timestamptz not null default now()
);
create index partner_orders_due on partner_orders (status, next_attempt_at) where status in (0, 2, 10, 12);
create index partner_orders_by_id_number on partner_orders (id_number_md5);
create index partner_orders_by_mobile on partner_orders (mobile_md5);
create trigger partner_orders_transition before insert or update on partner_orders
  for each row execute function enforce_status_transition('order_transitions');
create trigger partner_orders_kept before delete on partner_orders for each row execute function refuse_delete();

create table credit_data (
  order_id bigint not null references partner_orders,
  kind text not null check (kind in ('operator', 'creditcard', 'device')),
  body jsonb not null,
  fetched_at timestamptz not null default now(),
  primary key (order_id, kind)
);

-- Cards belong to the person (the ID number's MD5): the first one is the default for disbursement and repayment.
create table cards (
  id bigserial primary key,
  id_number_md5 char(32) not null,
  bank_code text not null,
  card_number text not null check (card_number ~ '^[0-9]{12,19}$'),
  mobile text not null,
  is_default boolean not null,
  bound_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  unique (id_number_md5, card_number)
);
create unique index cards_one_default on cards (id_number_md5) where is_default;

-- Envelopes of calls that change something without a key of their own (card/bind): a replay within
-- the timestamp window is answered without applying it again.
create table envelope_replays (
  sign char(32) primary key,
  api text not null,
  seen_at timestamptz not null default now()
);

-- loan/confirm before the depository account is open (the seed's cl_borrow_confirm_log).
create table borrow_confirm_log (
  order_id bigint primary key references partner_orders,
  order_no text not null unique,
  user_no text not null,
  checks integer not null default 0,
  next_check_at timestamptz not null default now(),
  done_at timestamptz,
  created_at timestamptz not null default now()
);
create index borrow_confirm_log_due on borrow_confirm_log (next_check_at) where done_at is null;

create table borrows (
  id bigserial primary key,
  borrow_no text not null unique,
  order_id bigint not null unique references partner_orders,
  order_no text not null unique,
  user_no text not null,
  status smallint not null default 0 references borrow_statuses,
  amount bigint not null check (amount > 0),
  term integer not null check (term > 0),
  annual_rate numeric(12, 8) not null check (annual_rate >= 0),
  repayment_way text not null check (repayment_way in ('FIXED_REPAYMENT', 'FIXED_CAPITAL')),
  service_fee bigint not null check (service_fee >= 0 and service_fee < amount),
  project_no text not null unique,
  review_approved boolean,
  review_reason text,
  reject_reason text,
  funder_user_no text,
  current_tender text,
  disburse_attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  loan_time timestamptz,
  disbursed_on date,
  penalty_waived boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  status_changed_at timestamptz not null default now(),
  check (status not in (30, 40, 41) or (loan_time is not null and disbursed_on is not null))
);
create index borrows_due on borrows (status, next_attempt_at) where status in (10, 20, 31);
create index borrows_by_user on borrows (user_no);
create trigger borrows_transition before insert or update on borrows
  for each row execute function enforce_status_transition('borrow_transitions');
create trigger borrows_kept before delete on borrows for each row execute function refuse_delete();

create table plans (
  borrow_id bigint not null references borrows,
  period integer not null check (period > 0),
  start_date date not null,
  due_date date not null check (due_date > start_date),
  principal bigint not null check (principal >= 0),
  interest bigint not null check (interest >= 0),
  status smallint not null default 0 check (status in (0, 1, 2)),
  paid_principal bigint not null default 0,
  paid_interest bigint not null default 0,
  paid_penalty bigint not null default 0,
  penalty bigint not null default 0 check (penalty >= 0),
  penalty_waived boolean not null default false,
  overdue_notified boolean not null default false,
  paid_at timestamptz,
  primary key (borrow_id, period),
  check (paid_principal in (0, principal) and paid_interest between 0 and interest and paid_penalty >= 0),
  check ((status = 1) = (paid_at is not null))
);
create index plans_unpaid on plans (due_date) where status <> 1;

-- A borrow's plan covers exactly its amount: checked at commit, once every period is written.
create function plans_cover_the_loan() returns trigger language plpgsql as $$
declare
  covered bigint;
  lent bigint;
begin
  select coalesce(sum(principal), 0) into covered from plans where borrow_id = new.borrow_id;
  select amount into lent from borrows where id = new.borrow_id;
  if covered <> lent then
    raise exception 'plan of borrow % covers % fen of %', new.borrow_id, covered, lent using errcode = 'check_violation';
  end if;
  return null;
end $$;
create constraint trigger plans_cover_the_loan after insert or update of principal on plans
  deferrable initially deferred for each row execute function plans_cover_the_loan();

-- A paid period stays paid.
create function plans_paid_stays_paid() returns trigger language plpgsql as $$
begin
  if old.status = 1 and (new.status <> 1 or new.paid_principal <> old.paid_principal
                          or new.paid_interest <> old.paid_interest or new.paid_penalty <> old.paid_penalty) then
    raise exception 'period % of borrow % is paid already', old.period, old.borrow_id using errcode = 'check_violation';
  end if;
  return new;
end $$;
create trigger plans_paid_stays_paid before update on plans for each row execute function plans_paid_stays_paid();

create table repayments (
  id bigserial primary key,
  repay_no text not null unique check (repay_no ~ '^[A-Za-z0-9_-]{1,64}$'),
  borrow_id bigint not null references borrows,
  order_no text not null,
  periods jsonb not null,
  amount bigint not null check (amount > 0),
  principal bigint not null check (principal >= 0),
  interest bigint not null check (interest >= 0),
  penalty bigint not null check (penalty >= 0),
  parts jsonb not null,
  status text not null default 'PROCESSING' check (status in ('PROCESSING', 'SUCCESS', 'FAILED')),
  reason text,
  freeze_request_no text not null unique,
  created_at timestamptz not null default now(),
  settled_at timestamptz,
  check (amount = principal + interest + penalty),
  check ((status = 'PROCESSING') = (settled_at is null))
);
-- One repayment at a time per borrow: two could otherwise pay the same period twice.
create unique index repayments_one_processing on repayments (borrow_id) where status = 'PROCESSING';

create function final_status_stays() returns trigger language plpgsql as $$
begin
  if old.status is distinct from new.status and old.status::text <> tg_argv[0] then
    raise exception '% % is final already (%)', tg_table_name, tg_argv[1], old.status using errcode = 'check_violation';
  end if;
  return new;
end $$;
create trigger repayments_final before update on repayments
  for each row execute function final_status_stays('PROCESSING', 'repayment');

-- Every call lending makes to the depository agent's transaction services (docs/protocols.md), stored
-- before it is sent; its final result (the answer, or the message on depository.gateway-notify)
-- settles it exactly once.
create table depository_calls (
  request_no text primary key check (request_no ~ '^REQ_[0-9A-F]{32}$'),
  service text not null,
  purpose text not null check (purpose in ('project', 'project-status', 'tender', 'tender-cancel', 'loan',
                                           'repay-freeze', 'repay-cancel', 'repay-confirm')),
  domain text not null check (domain in ('loan', 'repay')),
  borrow_id bigint not null references borrows,
  repayment_id bigint references repayments,
  pre_request_no text references depository_calls,
  user_no text,
  amount bigint check (amount >= 0),
  body jsonb not null,
  status smallint not null default 0 check (status in (0, 1, 2)),
  resp_code text,
  resp_msg text,
  sends integer not null default 0,
  next_send_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  settled_at timestamptz,
  check ((status = 0) = (settled_at is null))
);
create index depository_calls_pending on depository_calls (domain, next_send_at) where status = 0;
create index depository_calls_by_borrow on depository_calls (borrow_id);
-- A freeze is cancelled at most once.
create unique index depository_calls_one_cancel on depository_calls (pre_request_no)
  where purpose in ('tender-cancel', 'repay-cancel');
create trigger depository_calls_final before update on depository_calls
  for each row execute function final_status_stays('0', 'call');

-- The ledger mirror: postings written with the result they mirror, posted until the ledger confirms.
create table ledger_postings (
  id bigserial primary key,
  op text not null check (op in ('add', 'deduct', 'refund')),
  eid text not null,
  trade_no text not null,
  amount bigint not null check (amount > 0),
  status smallint not null default 0 check (status in (0, 1, 2)),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  posted_at timestamptz,
  unique (op, eid, trade_no)
);
create index ledger_postings_pending on ledger_postings (next_attempt_at) where status = 0;

-- Partner callbacks (an outbox): written with the state change, delivered until the partner answers code 0.
create table partner_callbacks (
  id bigserial primary key,
  event_id text not null unique,
  event text not null,
  order_no text not null,
  biz jsonb not null,
  status smallint not null default 0 check (status in (0, 1)),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz
);
create index partner_callbacks_pending on partner_callbacks (next_attempt_at) where status = 0;
create index partner_callbacks_by_order on partner_callbacks (order_no, id) where status = 0;

-- Messages to RabbitMQ (credit and audit requests), published by the outbox relay (shared/outbox.py).
create table outbox (
  id bigserial primary key,
  exchange text not null,
  routing_key text not null,
  message_id text not null unique,
  content_type text not null default 'application/json',
  headers jsonb not null default '{}',
  body text not null,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index outbox_pending on outbox (id) where sent_at is null;

-- What an operator must look at: results that contradict what lending knows, refusals that should not happen.
create table anomalies (
  id bigserial primary key,
  kind text not null,
  reference text not null,
  detail text not null,
  created_at timestamptz not null default now()
);
