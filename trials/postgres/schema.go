package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hyperopt-go/hyperopt/trials"
)

// SchemaVersion is the version of the schema this package writes. A
// database written by a newer version is refused with an error wrapping
// trials.ErrSchema; an older one is migrated on Open, under a transaction
// advisory lock so that processes opening at once do not race.
//
// The schema (version 2), in a PostgreSQL schema of its own
// (Options.Schema):
//
//   - meta(name, value): the rows "application" and "version".
//   - experiments: one row per experiment, with its spec, budget use
//     (claimed, next_id) and sequence numbers (seq, report_seq). Every
//     write that changes a trial locks its experiment's row first and
//     stamps the next seq, so commits are ordered by seq.
//   - trials: one row per trial with values (a claimed ID without values
//     has no row), keyed by (experiment, id); seq is the experiment's
//     sequence number of its last change (unique per experiment, indexed
//     for Changes; that index and those of the queue and the leases are on
//     experiment+0, so that lookups by ID always take the primary key). A trial that Reserve ended because its lease expired
//     at the last attempt has expired_max > 0 and its error text is made
//     by trials.ExpiredResult when read.
//     reserve_token marks the Reserve or ReserveN call that took a running
//     trial, so that a retry of that call returns the same trials.
//   - released(experiment, id): claimed IDs given back by Release.
//   - claims(experiment, request, first_id, n): the IDs each Claim request
//     got, so that a retried Claim returns them again.
//   - moves(experiment, token): the Requeue and Cancel calls done, so that
//     a retry of one finds it done.
//   - reports: intermediate reports, numbered by the experiment's
//     report_seq.
//   - attachments(experiment, id, name, data): attachment bytes, apart
//     from the trials so that listings never read them.
//
// The hot-path operations are PL/pgSQL functions (hyperopt_claim,
// hyperopt_propose, hyperopt_reserve, ...) so that each is one round trip.
// hyperopt_reserve_n and hyperopt_finish_n are the batch operations of
// trials.Batcher (ReserveN, FinishN); Reserve is hyperopt_reserve_n for
// one trial, and Finish and FinishN share hyperopt_finish_one, which
// checks and records one finish and returns its refusal rather than
// raising it, so that one refused finish of a batch does not undo the
// others.
// They raise errors with SQLSTATEs of the class "HO": HO404 not found,
// HO409 conflict, HO402 budget exhausted, HO400 bad input. Every write
// that stamps a seq also notifies the channel "hyperopt.<schema>" with the
// payload "<seq> <experiment key>" (a key over 1000 bytes is sent as
// "md5:" and its MD5 in hex), which PostgreSQL delivers at commit; a batch
// notifies once, with its last seq.
//
// Versions: 1 is the tables and the single-trial functions; 2 adds
// hyperopt_reserve_n, hyperopt_finish_one and hyperopt_finish_n, and
// redefines hyperopt_reserve and hyperopt_finish on them with the same
// signatures and meaning (a process of version 1 that opened the store
// before the migration goes on working until it reopens, which it then
// refuses). No table changes.
const SchemaVersion = 2

// application is the value of the meta table's "application" row, which
// tells this package's tables from another program's.
const application = "hyperopt-go trials"

// ourTables are the tables of the schema; finding one of them without the
// meta table means the schema belongs to another program.
var ourTables = []string{"meta", "experiments", "trials", "released", "claims", "moves", "reports", "attachments"}

// migrations[v-1] brings a schema from version v-1 to v. Each runs in the
// transaction that holds the migration lock.
var migrations = []string{schemaV1, schemaV2}

const schemaV1 = `
CREATE TABLE meta (name text PRIMARY KEY, value text NOT NULL);

CREATE TABLE experiments (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key text NOT NULL UNIQUE,
	space bytea,
	fingerprint text NOT NULL,
	seed bigint NOT NULL,
	max_evals int NOT NULL,
	max_attempts int NOT NULL,
	algorithm text NOT NULL,
	algorithm_options bytea,
	created timestamptz NOT NULL,
	claimed int NOT NULL DEFAULT 0,
	next_id bigint NOT NULL DEFAULT 0,
	seq bigint NOT NULL DEFAULT 0,
	report_seq bigint NOT NULL DEFAULT 0
);

CREATE TABLE trials (
	experiment bigint NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	id bigint NOT NULL,
	state smallint NOT NULL,
	vals float8[] NOT NULL,
	owner text NOT NULL DEFAULT '',
	attempt int NOT NULL DEFAULT 0,
	lease_until timestamptz,
	booked timestamptz,
	started timestamptz,
	ended timestamptz,
	seq bigint NOT NULL,
	loss float8 NOT NULL DEFAULT 0,
	status smallint NOT NULL DEFAULT 0,
	loss_variance float8 NOT NULL DEFAULT 0,
	true_loss float8 NOT NULL DEFAULT 0,
	has_true_loss boolean NOT NULL DEFAULT false,
	extras bytea,
	err text NOT NULL DEFAULT '',
	stack text NOT NULL DEFAULT '',
	expired_max int NOT NULL DEFAULT 0,
	attachments text[] NOT NULL DEFAULT '{}',
	reserve_token text,
	PRIMARY KEY (experiment, id)
);
-- The indexes that queries other than a lookup by (experiment, id) need
-- are on "experiment + 0", which those queries name and lookups do not:
-- on a young table without statistics, the planner would otherwise find
-- an index that leads with experiment as cheap as the primary key and scan
-- an experiment's every trial to find one.
CREATE UNIQUE INDEX trials_seq ON trials ((experiment + 0), seq);
CREATE INDEX trials_queued ON trials ((experiment + 0), id) WHERE state = 1;
CREATE INDEX trials_running ON trials ((experiment + 0), lease_until) WHERE state = 2;

CREATE TABLE released (
	experiment bigint NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	id bigint NOT NULL,
	PRIMARY KEY (experiment, id)
);

CREATE TABLE claims (
	experiment bigint NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	request text NOT NULL,
	first_id bigint NOT NULL,
	n int NOT NULL,
	PRIMARY KEY (experiment, request)
);

CREATE TABLE moves (
	experiment bigint NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	token text NOT NULL,
	PRIMARY KEY (experiment, token)
);

CREATE TABLE reports (
	experiment bigint NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	seq bigint NOT NULL,
	id bigint NOT NULL,
	attempt int NOT NULL,
	step bigint NOT NULL,
	value float8 NOT NULL
);
CREATE UNIQUE INDEX reports_seq ON reports ((experiment + 0), seq);
CREATE INDEX reports_trial ON reports (experiment, id, attempt, step);

CREATE TABLE attachments (
	experiment bigint NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	id bigint NOT NULL,
	name text NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (experiment, id, name)
);

CREATE FUNCTION hyperopt_fail(code text, msg text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg;
END $$;

CREATE FUNCTION hyperopt_state(s smallint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce((ARRAY['queued','running','done','error','canceled'])[s], 'State(' || s || ')')
$$;

-- hyperopt_lock locks experiment p_key's row until the transaction ends and
-- returns it: every write that stamps a sequence number takes it first.
CREATE FUNCTION hyperopt_lock(p_key text) RETURNS experiments LANGUAGE plpgsql AS $$
DECLARE e experiments;
BEGIN
	SELECT * INTO e FROM experiments WHERE key = p_key FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM hyperopt_fail('HO404', format('experiment %s', to_json(p_key)));
	END IF;
	RETURN e;
END $$;

-- hyperopt_notify wakes the listeners of experiment p_key (delivered at
-- commit). The payload is "<seq> <key>", or "<seq> md5:<md5 of key>" for a
-- key too long for a notification.
CREATE FUNCTION hyperopt_notify(p_key text, p_seq bigint) RETURNS void LANGUAGE sql AS $$
	SELECT pg_notify('hyperopt.' || current_schema(), p_seq || ' ' ||
		CASE WHEN octet_length(p_key) <= 1000 THEN p_key ELSE 'md5:' || md5(p_key) END)
$$;

CREATE FUNCTION hyperopt_claim(p_key text, p_n int, p_req text) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	c claims;
	k int;
BEGIN
	e := hyperopt_lock(p_key);
	SELECT * INTO c FROM claims WHERE experiment = e.id AND request = p_req;
	IF FOUND THEN
		RETURN QUERY SELECT generate_series(c.first_id, c.first_id + c.n - 1);
		RETURN;
	END IF;
	IF p_n <= 0 THEN
		PERFORM hyperopt_fail('HO400', format('claim %s trials: count must be positive', p_n));
	END IF;
	k := p_n;
	IF e.max_evals > 0 THEN
		k := least(k, e.max_evals - e.claimed);
		IF k <= 0 THEN
			PERFORM hyperopt_fail('HO402', format('experiment %s has claimed %s of %s', to_json(p_key), e.claimed, e.max_evals));
		END IF;
	END IF;
	UPDATE experiments SET next_id = next_id + k, claimed = claimed + k WHERE id = e.id;
	INSERT INTO claims (experiment, request, first_id, n) VALUES (e.id, p_req, e.next_id, k);
	RETURN QUERY SELECT generate_series(e.next_id, e.next_id + k - 1);
END $$;

-- hyperopt_propose records proposals. A retry (p_retry) of a call whose
-- reply was lost accepts a trial that has the values it proposes in any
-- state: its first call recorded it, and the trial may have moved on since
-- (reserved by a worker, say).
CREATE FUNCTION hyperopt_propose(p_key text, p_ids bigint[], p_lens int[], p_vals float8[], p_owners text[], p_ttls bigint[],
	p_retry boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	t trials;
	v_now timestamptz;
	v_seq bigint;
	v_off int := 0;
	v float8[];
	i int;
BEGIN
	e := hyperopt_lock(p_key);
	v_now := clock_timestamp();
	v_seq := e.seq;
	FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
		v := coalesce(p_vals[v_off + 1 : v_off + p_lens[i]], '{}');
		v_off := v_off + p_lens[i];
		IF p_ids[i] < 0 OR p_ids[i] >= e.next_id THEN
			PERFORM hyperopt_fail('HO409', format('propose trial %s of %s: never claimed', p_ids[i], to_json(p_key)));
		END IF;
		IF EXISTS (SELECT 1 FROM released WHERE experiment = e.id AND id = p_ids[i]) THEN
			PERFORM hyperopt_fail('HO409', format('propose trial %s of %s: released', p_ids[i], to_json(p_key)));
		END IF;
		SELECT * INTO t FROM trials WHERE experiment = e.id AND id = p_ids[i];
		IF FOUND THEN
			IF t.vals = v AND ((t.owner = p_owners[i] AND
				((p_owners[i] = '' AND t.state = 1) OR (p_owners[i] <> '' AND t.state = 2 AND t.attempt = 1))) OR p_retry) THEN
				CONTINUE; -- an identical retry
			END IF;
			PERFORM hyperopt_fail('HO409', format('propose trial %s of %s: already proposed', p_ids[i], to_json(p_key)));
		END IF;
		v_seq := v_seq + 1;
		IF p_owners[i] = '' THEN
			INSERT INTO trials (experiment, id, state, vals, booked, seq)
			VALUES (e.id, p_ids[i], 1, v, v_now, v_seq);
		ELSE
			INSERT INTO trials (experiment, id, state, vals, booked, seq, owner, attempt, started, lease_until)
			VALUES (e.id, p_ids[i], 2, v, v_now, v_seq, p_owners[i], 1, v_now, v_now + p_ttls[i] * interval '1 microsecond');
		END IF;
	END LOOP;
	IF v_seq > e.seq THEN
		UPDATE experiments SET seq = v_seq WHERE id = e.id;
		PERFORM hyperopt_notify(p_key, v_seq);
	END IF;
END $$;

CREATE FUNCTION hyperopt_release(p_key text, p_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	x bigint;
	k int;
BEGIN
	e := hyperopt_lock(p_key);
	FOREACH x IN ARRAY p_ids LOOP
		IF x < 0 OR x >= e.next_id THEN
			PERFORM hyperopt_fail('HO404', format('release trial %s of %s', x, to_json(p_key)));
		END IF;
		IF EXISTS (SELECT 1 FROM trials WHERE experiment = e.id AND id = x) THEN
			PERFORM hyperopt_fail('HO409', format('release trial %s of %s: it has values', x, to_json(p_key)));
		END IF;
	END LOOP;
	WITH ins AS (
		INSERT INTO released (experiment, id) SELECT DISTINCT e.id, u FROM unnest(p_ids) u
		ON CONFLICT DO NOTHING RETURNING 1
	) SELECT count(*) INTO k FROM ins;
	IF k > 0 THEN
		UPDATE experiments SET claimed = claimed - k WHERE id = e.id;
	END IF;
END $$;

-- hyperopt_reserve takes a trial for p_owner and marks it with p_token;
-- a retry (p_retry) of a call whose reply was lost returns the trial that
-- call took, if it is still running under that reservation.
CREATE FUNCTION hyperopt_reserve(p_key text, p_owner text, p_ttl bigint, p_token text, p_retry boolean)
RETURNS SETOF trials LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	t trials;
	v_now timestamptz;
	v_seq bigint;
	v_found boolean := false;
BEGIN
	e := hyperopt_lock(p_key);
	IF p_retry THEN
		RETURN QUERY SELECT * FROM trials WHERE experiment + 0 = e.id AND state = 2 AND reserve_token = p_token;
		IF FOUND THEN
			RETURN;
		END IF;
	END IF;
	v_now := clock_timestamp();
	v_seq := e.seq;
	SELECT * INTO t FROM trials WHERE experiment + 0 = e.id AND state = 1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
	v_found := FOUND;
	WHILE NOT v_found LOOP
		-- A running trial whose lease expired by the database's clock.
		SELECT * INTO t FROM trials WHERE experiment + 0 = e.id AND state = 2 AND lease_until < v_now
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
		EXIT WHEN NOT FOUND;
		IF t.attempt < e.max_attempts THEN
			v_found := true;
		ELSE
			-- Its last attempt: it ends in error rather than running again.
			v_seq := v_seq + 1;
			UPDATE trials SET state = 4, loss = 0, status = 0, loss_variance = 0, true_loss = 0,
				has_true_loss = false, extras = NULL, err = '', stack = '', attachments = '{}',
				expired_max = e.max_attempts, ended = v_now, lease_until = NULL, seq = v_seq
			WHERE experiment = e.id AND id = t.id;
		END IF;
	END LOOP;
	IF v_found THEN
		v_seq := v_seq + 1;
		RETURN QUERY UPDATE trials SET state = 2, owner = p_owner, started = v_now,
			lease_until = v_now + p_ttl * interval '1 microsecond', attempt = attempt + 1, seq = v_seq,
			reserve_token = p_token
		WHERE experiment = e.id AND id = t.id RETURNING *;
	END IF;
	IF v_seq > e.seq THEN
		UPDATE experiments SET seq = v_seq WHERE id = e.id;
		PERFORM hyperopt_notify(p_key, v_seq);
	END IF;
END $$;

-- hyperopt_leased fails unless (p_id, p_attempt) is the current lease of a
-- running trial t (the caller has looked it up).
CREATE FUNCTION hyperopt_leased(p_key text, e_id bigint, p_id bigint, p_attempt int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t trials;
BEGIN
	SELECT * INTO t FROM trials WHERE experiment = e_id AND id = p_id;
	IF NOT FOUND THEN
		PERFORM hyperopt_fail('HO404', format('trial %s of experiment %s', p_id, to_json(p_key)));
	END IF;
	IF t.state <> 2 OR t.attempt <> p_attempt THEN
		PERFORM hyperopt_fail('HO409', format('trial %s of %s: lease of attempt %s, trial is %s at attempt %s',
			p_id, to_json(p_key), p_attempt, hyperopt_state(t.state), t.attempt));
	END IF;
END $$;

CREATE FUNCTION hyperopt_heartbeat(p_key text, p_id bigint, p_attempt int, p_ttl bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE e_id bigint;
BEGIN
	SELECT id INTO e_id FROM experiments WHERE key = p_key;
	IF NOT FOUND THEN
		PERFORM hyperopt_fail('HO404', format('experiment %s', to_json(p_key)));
	END IF;
	UPDATE trials SET lease_until = clock_timestamp() + p_ttl * interval '1 microsecond'
	WHERE experiment = e_id AND id = p_id AND state = 2 AND attempt = p_attempt;
	IF NOT FOUND THEN
		PERFORM hyperopt_leased(p_key, e_id, p_id, p_attempt);
		PERFORM hyperopt_fail('HO409', format('trial %s of %s: lease of attempt %s changed', p_id, to_json(p_key), p_attempt));
	END IF;
END $$;

-- hyperopt_report records a report. A retry (p_retry) of a call whose
-- reply was lost finds the report its first call recorded even if the
-- trial has moved on to another attempt since.
CREATE FUNCTION hyperopt_report(p_key text, p_id bigint, p_attempt int, p_step bigint, p_value float8, p_retry boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	t trials;
	v float8;
BEGIN
	e := hyperopt_lock(p_key);
	SELECT * INTO t FROM trials WHERE experiment = e.id AND id = p_id;
	IF NOT FOUND THEN
		PERFORM hyperopt_fail('HO404', format('trial %s of experiment %s', p_id, to_json(p_key)));
	END IF;
	IF t.attempt = p_attempt OR p_retry THEN
		-- A retry of a report that was recorded is a success.
		SELECT value INTO v FROM reports
		WHERE experiment = e.id AND id = p_id AND attempt = p_attempt AND step = p_step LIMIT 1;
		IF FOUND THEN
			IF v = p_value THEN
				RETURN;
			END IF;
			PERFORM hyperopt_fail('HO409', format('report step %s of trial %s of %s: already reported as %s', p_step, p_id, to_json(p_key), v));
		END IF;
	END IF;
	PERFORM hyperopt_leased(p_key, e.id, p_id, p_attempt);
	INSERT INTO reports (experiment, seq, id, attempt, step, value) VALUES (e.id, e.report_seq + 1, p_id, p_attempt, p_step, p_value);
	UPDATE experiments SET report_seq = report_seq + 1 WHERE id = e.id;
END $$;

CREATE FUNCTION hyperopt_finish(p_key text, p_id bigint, p_attempt int, p_state smallint,
	p_loss float8, p_status smallint, p_loss_variance float8, p_true_loss float8, p_has_true_loss boolean,
	p_extras bytea, p_err text, p_stack text, p_names text[], p_data bytea[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	t trials;
	v_now timestamptz;
BEGIN
	e := hyperopt_lock(p_key);
	v_now := clock_timestamp();
	SELECT * INTO t FROM trials WHERE experiment = e.id AND id = p_id;
	IF NOT FOUND THEN
		PERFORM hyperopt_fail('HO404', format('trial %s of experiment %s', p_id, to_json(p_key)));
	END IF;
	IF t.state IN (3, 4) THEN
		IF t.attempt = p_attempt AND t.state = p_state AND t.expired_max = 0 AND t.loss = p_loss AND t.status = p_status
			AND t.loss_variance = p_loss_variance AND t.true_loss = p_true_loss AND t.has_true_loss = p_has_true_loss
			AND t.extras IS NOT DISTINCT FROM p_extras AND t.err = p_err AND t.stack = p_stack
			AND t.attachments = p_names
			AND (SELECT coalesce(array_agg(data ORDER BY name COLLATE "C"), '{}') FROM attachments
				WHERE experiment = e.id AND id = p_id) = p_data THEN
			RETURN; -- a retry of the finish that succeeded
		END IF;
		PERFORM hyperopt_fail('HO409', format('finish trial %s of %s: already finished with another result', p_id, to_json(p_key)));
	END IF;
	PERFORM hyperopt_leased(p_key, e.id, p_id, p_attempt);
	UPDATE trials SET state = p_state, loss = p_loss, status = p_status, loss_variance = p_loss_variance,
		true_loss = p_true_loss, has_true_loss = p_has_true_loss, extras = p_extras, err = p_err, stack = p_stack,
		attachments = p_names, expired_max = 0, ended = v_now, seq = e.seq + 1
	WHERE experiment = e.id AND id = p_id;
	IF cardinality(p_names) > 0 THEN
		INSERT INTO attachments (experiment, id, name, data)
		SELECT e.id, p_id, n, d FROM unnest(p_names, p_data) AS x(n, d)
		ON CONFLICT (experiment, id, name) DO UPDATE SET data = excluded.data;
	END IF;
	UPDATE experiments SET seq = e.seq + 1 WHERE id = e.id;
	PERFORM hyperopt_notify(p_key, e.seq + 1);
END $$;

-- hyperopt_move requeues (p_to 1) or cancels (p_to 5) the trials at the
-- attempts given, all or nothing, and records p_token, so that a retry
-- (p_retry) of a call whose reply was lost succeeds even if the trials
-- moved on since.
CREATE FUNCTION hyperopt_move(p_key text, p_ids bigint[], p_attempts int[], p_to smallint, p_token text, p_retry boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	t trials;
	v_now timestamptz;
	v_seq bigint;
	i int;
	verb text := CASE WHEN p_to = 1 THEN 'requeue' ELSE 'cancel' END;
BEGIN
	e := hyperopt_lock(p_key);
	IF p_retry AND EXISTS (SELECT 1 FROM moves WHERE experiment = e.id AND token = p_token) THEN
		RETURN;
	END IF;
	INSERT INTO moves (experiment, token) VALUES (e.id, p_token);
	v_now := clock_timestamp();
	v_seq := e.seq;
	FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
		SELECT * INTO t FROM trials WHERE experiment = e.id AND id = p_ids[i];
		IF NOT FOUND THEN
			PERFORM hyperopt_fail('HO404', format('trial %s of experiment %s', p_ids[i], to_json(p_key)));
		END IF;
		IF t.attempt <> p_attempts[i] THEN
			PERFORM hyperopt_fail('HO409', format('%s trial %s of %s: attempt %s given, trial is %s at attempt %s',
				verb, p_ids[i], to_json(p_key), p_attempts[i], hyperopt_state(t.state), t.attempt));
		END IF;
	END LOOP;
	FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
		SELECT * INTO t FROM trials WHERE experiment = e.id AND id = p_ids[i];
		IF p_to = 1 AND t.state IN (2, 4, 5) THEN
			v_seq := v_seq + 1;
			UPDATE trials SET state = 1, lease_until = NULL, ended = NULL, loss = 0, status = 0, loss_variance = 0,
				true_loss = 0, has_true_loss = false, extras = NULL, err = '', stack = '', attachments = '{}',
				expired_max = 0, seq = v_seq
			WHERE experiment = e.id AND id = t.id;
			DELETE FROM attachments WHERE experiment = e.id AND id = t.id;
		ELSIF p_to = 5 AND t.state IN (1, 2) THEN
			v_seq := v_seq + 1;
			UPDATE trials SET state = 5, lease_until = NULL, ended = v_now, seq = v_seq
			WHERE experiment = e.id AND id = t.id;
		END IF;
	END LOOP;
	IF v_seq > e.seq THEN
		UPDATE experiments SET seq = v_seq WHERE id = e.id;
		PERFORM hyperopt_notify(p_key, v_seq);
	END IF;
END $$;
`

// schemaV2 adds the batch operations of trials.Batcher: hyperopt_reserve_n
// and hyperopt_finish_n. Reserve and Finish become the one-trial cases of
// the same code (hyperopt_reserve calls hyperopt_reserve_n with n = 1, and
// hyperopt_finish and hyperopt_finish_n share hyperopt_finish_one), so that
// a batch means exactly what as many single calls mean. hyperopt_reserve
// and hyperopt_finish keep their signatures: a process of the previous
// version that opened the store before the migration goes on working.
const schemaV2 = `
-- hyperopt_reserve_n takes up to p_n trials for p_owner and marks them with
-- p_token: queued ones lowest ID first, then running ones whose lease
-- expired by the database's clock, lowest ID first, ending in error those
-- at their last attempt that it meets on the way (as p_n Reserve calls
-- would). Each changed trial gets its own seq, in that order. A retry
-- (p_retry) of a call whose reply was lost returns the trials that call
-- took that are still running under that reservation, if any.
CREATE FUNCTION hyperopt_reserve_n(p_key text, p_owner text, p_ttl bigint, p_n int, p_token text, p_retry boolean)
RETURNS SETOF trials LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	t trials;
	v_now timestamptz;
	v_seq bigint;
	v_ids bigint[];
	v_seqs bigint[];
	i int;
BEGIN
	e := hyperopt_lock(p_key);
	IF p_retry THEN
		RETURN QUERY SELECT * FROM trials WHERE experiment + 0 = e.id AND state = 2 AND reserve_token = p_token ORDER BY seq;
		IF FOUND THEN
			RETURN;
		END IF;
	END IF;
	IF p_n <= 0 THEN
		PERFORM hyperopt_fail('HO400', format('reserve %s trials: count must be positive', p_n));
	END IF;
	v_now := clock_timestamp();
	SELECT coalesce(array_agg(q.id ORDER BY q.id), '{}') INTO v_ids FROM (
		SELECT id FROM trials WHERE experiment + 0 = e.id AND state = 1 ORDER BY id LIMIT p_n FOR UPDATE SKIP LOCKED) q;
	SELECT coalesce(array_agg(e.seq + k ORDER BY k), '{}') INTO v_seqs FROM generate_series(1, cardinality(v_ids)) k;
	v_seq := e.seq + cardinality(v_ids);
	IF cardinality(v_ids) < p_n THEN
		-- Running trials whose lease expired by the database's clock.
		FOR t IN SELECT * FROM trials WHERE experiment + 0 = e.id AND state = 2 AND lease_until < v_now
			ORDER BY id FOR UPDATE SKIP LOCKED
		LOOP
			v_seq := v_seq + 1;
			IF t.attempt < e.max_attempts THEN
				v_ids := v_ids || t.id;
				v_seqs := v_seqs || v_seq;
				EXIT WHEN cardinality(v_ids) >= p_n;
			ELSE
				-- Its last attempt: it ends in error rather than running again.
				UPDATE trials SET state = 4, loss = 0, status = 0, loss_variance = 0, true_loss = 0,
					has_true_loss = false, extras = NULL, err = '', stack = '', attachments = '{}',
					expired_max = e.max_attempts, ended = v_now, lease_until = NULL, seq = v_seq
				WHERE experiment = e.id AND id = t.id;
			END IF;
		END LOOP;
	END IF;
	-- One update by primary key per trial: a join with the arrays is
	-- planned, on a young table without statistics, as a scan of the
	-- experiment's every trial.
	FOR i IN 1 .. cardinality(v_ids) LOOP
		RETURN QUERY UPDATE trials SET state = 2, owner = p_owner, started = v_now,
			lease_until = v_now + p_ttl * interval '1 microsecond', attempt = attempt + 1, seq = v_seqs[i],
			reserve_token = p_token
		WHERE experiment = e.id AND id = v_ids[i] RETURNING *;
	END LOOP;
	IF v_seq > e.seq THEN
		UPDATE experiments SET seq = v_seq WHERE id = e.id;
		PERFORM hyperopt_notify(p_key, v_seq);
	END IF;
END $$;

CREATE OR REPLACE FUNCTION hyperopt_reserve(p_key text, p_owner text, p_ttl bigint, p_token text, p_retry boolean)
RETURNS SETOF trials LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY SELECT * FROM hyperopt_reserve_n(p_key, p_owner, p_ttl, 1, p_token, p_retry);
END $$;

-- hyperopt_finish_one records a finish of trial p_id of experiment e_id
-- (whose row the caller has locked), stamped p_seq, without raising: o_code
-- is 'ok' if it recorded it, 'same' if the trial has this very result
-- already (a retry of the finish that succeeded), and otherwise the
-- SQLSTATE (HO404, HO409) of the error o_msg.
CREATE FUNCTION hyperopt_finish_one(p_key text, e_id bigint, p_now timestamptz, p_seq bigint,
	p_id bigint, p_attempt int, p_state smallint,
	p_loss float8, p_status smallint, p_loss_variance float8, p_true_loss float8, p_has_true_loss boolean,
	p_extras bytea, p_err text, p_stack text, p_names text[], p_data bytea[], OUT o_code text, OUT o_msg text)
LANGUAGE plpgsql AS $$
DECLARE t trials;
BEGIN
	SELECT * INTO t FROM trials WHERE experiment = e_id AND id = p_id;
	IF NOT FOUND THEN
		o_code := 'HO404';
		o_msg := format('trial %s of experiment %s', p_id, to_json(p_key));
		RETURN;
	END IF;
	IF t.state IN (3, 4) THEN
		IF t.attempt = p_attempt AND t.state = p_state AND t.expired_max = 0 AND t.loss = p_loss AND t.status = p_status
			AND t.loss_variance = p_loss_variance AND t.true_loss = p_true_loss AND t.has_true_loss = p_has_true_loss
			AND t.extras IS NOT DISTINCT FROM p_extras AND t.err = p_err AND t.stack = p_stack
			AND t.attachments = p_names
			AND (SELECT coalesce(array_agg(data ORDER BY name COLLATE "C"), '{}') FROM attachments
				WHERE experiment = e_id AND id = p_id) = p_data THEN
			o_code := 'same'; -- a retry of the finish that succeeded
			RETURN;
		END IF;
		o_code := 'HO409';
		o_msg := format('finish trial %s of %s: already finished with another result', p_id, to_json(p_key));
		RETURN;
	END IF;
	IF t.state <> 2 OR t.attempt <> p_attempt THEN
		o_code := 'HO409';
		o_msg := format('trial %s of %s: lease of attempt %s, trial is %s at attempt %s',
			p_id, to_json(p_key), p_attempt, hyperopt_state(t.state), t.attempt);
		RETURN;
	END IF;
	UPDATE trials SET state = p_state, loss = p_loss, status = p_status, loss_variance = p_loss_variance,
		true_loss = p_true_loss, has_true_loss = p_has_true_loss, extras = p_extras, err = p_err, stack = p_stack,
		attachments = p_names, expired_max = 0, ended = p_now, seq = p_seq
	WHERE experiment = e_id AND id = p_id;
	IF cardinality(p_names) > 0 THEN
		INSERT INTO attachments (experiment, id, name, data)
		SELECT e_id, p_id, n, d FROM unnest(p_names, p_data) AS x(n, d)
		ON CONFLICT (experiment, id, name) DO UPDATE SET data = excluded.data;
	END IF;
	o_code := 'ok';
END $$;

CREATE OR REPLACE FUNCTION hyperopt_finish(p_key text, p_id bigint, p_attempt int, p_state smallint,
	p_loss float8, p_status smallint, p_loss_variance float8, p_true_loss float8, p_has_true_loss boolean,
	p_extras bytea, p_err text, p_stack text, p_names text[], p_data bytea[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	v_code text;
	v_msg text;
BEGIN
	e := hyperopt_lock(p_key);
	SELECT o_code, o_msg INTO v_code, v_msg FROM hyperopt_finish_one(p_key, e.id, clock_timestamp(), e.seq + 1, p_id, p_attempt, p_state,
		p_loss, p_status, p_loss_variance, p_true_loss, p_has_true_loss, p_extras, p_err, p_stack, p_names, p_data);
	IF v_code = 'ok' THEN
		UPDATE experiments SET seq = e.seq + 1 WHERE id = e.id;
		PERFORM hyperopt_notify(p_key, e.seq + 1);
	ELSIF v_code <> 'same' THEN
		PERFORM hyperopt_fail(v_code, v_msg);
	END IF;
END $$;

-- hyperopt_finish_n records the finishes i = 1..n in order, each as
-- hyperopt_finish would, and returns one row per finish: (NULL, NULL) if
-- it was recorded or was a retry of one recorded, else the SQLSTATE and
-- message of its error. The attachments of finish i are the next
-- p_nnames[i] elements of p_names and p_data.
CREATE FUNCTION hyperopt_finish_n(p_key text, p_ids bigint[], p_attempts int[], p_states smallint[],
	p_losses float8[], p_statuses smallint[], p_loss_variances float8[], p_true_losses float8[], p_has_true_losses boolean[],
	p_extras bytea[], p_errs text[], p_stacks text[], p_nnames int[], p_names text[], p_data bytea[])
RETURNS TABLE (code text, msg text) LANGUAGE plpgsql AS $$
DECLARE
	e experiments;
	v_code text;
	v_msg text;
	v_now timestamptz;
	v_seq bigint;
	v_off int := 0;
	i int;
BEGIN
	e := hyperopt_lock(p_key);
	v_now := clock_timestamp();
	v_seq := e.seq;
	FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
		SELECT o_code, o_msg INTO v_code, v_msg FROM hyperopt_finish_one(p_key, e.id, v_now, v_seq + 1,
			p_ids[i], p_attempts[i], p_states[i],
			p_losses[i], p_statuses[i], p_loss_variances[i], p_true_losses[i], p_has_true_losses[i],
			p_extras[i], p_errs[i], p_stacks[i],
			coalesce(p_names[v_off + 1 : v_off + p_nnames[i]], '{}'), coalesce(p_data[v_off + 1 : v_off + p_nnames[i]], '{}'));
		v_off := v_off + p_nnames[i];
		IF v_code = 'ok' THEN
			v_seq := v_seq + 1;
		END IF;
		IF v_code IN ('ok', 'same') THEN
			code := NULL;
			msg := NULL;
		ELSE
			code := v_code;
			msg := v_msg;
		END IF;
		RETURN NEXT;
	END LOOP;
	IF v_seq > e.seq THEN
		UPDATE experiments SET seq = v_seq WHERE id = e.id;
		PERFORM hyperopt_notify(p_key, v_seq);
	END IF;
END $$;
`

// lockKey is the advisory lock key that serializes migrations of schema.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(application + "\x00" + schema))
	return int64(h.Sum64())
}

// migrate creates or upgrades the schema, under an advisory transaction
// lock so that processes opening at once do not race.
func migrate(ctx context.Context, conn *pgx.Conn, schema string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(schema)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %q: %w", schema, err)
	}
	var found []string
	rows, err := tx.Query(ctx, `SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY 1`, schema, ourTables)
	if err != nil {
		return err
	}
	if found, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	version := 0
	if len(found) > 0 {
		foreign := func(why string) error {
			return fmt.Errorf("postgres: schema %q holds tables named like this package's (%v) but %s; "+
				"it belongs to another program: choose another schema with Options.Schema: %w", schema, found, why, trials.ErrSchema)
		}
		if found[0] != "meta" && !contains(found, "meta") {
			return foreign("no meta table")
		}
		var app, ver *string
		err := tx.QueryRow(ctx, `SELECT (SELECT value FROM meta WHERE name = 'application'), (SELECT value FROM meta WHERE name = 'version')`).Scan(&app, &ver)
		if err != nil {
			// Only an error about the table itself (class 42: no such
			// column, another type) says it is another program's; a
			// connection lost or a server shutting down is reported as it
			// is.
			var pe *pgconn.PgError
			if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "42") {
				return foreign(fmt.Sprintf("its meta table is not ours (%v)", err))
			}
			return err
		}
		if app == nil || *app != application {
			return foreign(fmt.Sprintf("its meta table names the application %q", deref(app)))
		}
		if version, err = strconv.Atoi(deref(ver)); err != nil {
			return foreign(fmt.Sprintf("its meta table has version %q", deref(ver)))
		}
		if version > SchemaVersion {
			return fmt.Errorf("postgres: schema %q was written by schema version %d; this build knows versions up to %d: use a newer build of hyperopt-go: %w",
				schema, version, SchemaVersion, trials.ErrSchema)
		}
		if version == SchemaVersion {
			return tx.Commit(ctx)
		}
	}
	for v := version + 1; v <= SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("migrate schema %q to version %d: %w", schema, v, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO meta (name, value) VALUES ('application', $1), ('version', $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, application, strconv.Itoa(SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
