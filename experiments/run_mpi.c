/* `attnlab run` under MPI (built with ATTNLAB_MPI, started by mpirun): every rank plans the same units from the
 * spec; rank 0 holds the output folder's lock. Work is taken dynamically from counters in rank 0's memory
 * (MPI_Fetch_and_op, no dispatcher rank): first the items (generated, or their files fingerprinted, and the
 * recording's shared pass planned), then the tasks (one shared pass, or one unit). Rank 0 gathers every unit's
 * outcome from the rank that ran it and writes run.json, the tables, figures and report.md exactly as a single
 * process does: unit results are files under OUT/steps (a shared file system), so nothing else travels. */
#include "run_mpi.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "commands.h"
#include "runown.h"

/* a task of the second phase: the shared pass of an item (its fused units), or one unit */
typedef struct {
    int item;
    int unit; /* -1: the item's fused units */
} al_mtask;

typedef struct {
    MPI_Win win;
    long long *ctr; /* [2] on rank 0: next item, next task */
    int rank, size;
} al_mctx;

/* the next index of counter c, shared by all ranks */
static long long al_mpi_next(al_mctx *m, int c) {
    long long one = 1, got = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, m->win);
    MPI_Fetch_and_op(&one, &got, MPI_LONG_LONG, 0, c, MPI_SUM, m->win);
    MPI_Win_unlock(0, m->win);
    return got;
}

/* pending units of an item, in unit order */
static int al_item_units(al_run *r, int item, al_unit **g) {
    int n = 0;
    for (int i = 0; i < r->nunits; i++)
        if (r->units[i].item == item && r->units[i].state == AL_U_PENDING) g[n++] = &r->units[i];
    return n;
}

/* Phase 1 on this rank: items taken from counter 0 are prepared; their fused units are marked in fused[] and
 * the units of a failed item marked failed (owner[] = this rank). */
static void al_mpi_items(al_run *r, al_mctx *m, al_unit **g, int *fused, int *owner) {
    al_unit *maps[AL_SPEC_MAX_STEPS], *f[3];
    for (long long item; (item = al_mpi_next(m, 0)) < r->spec->nitems;) {
        int n = al_item_units(r, (int)item, g);
        if (!n) continue;
        al_error ge;
        al_error_clear(&ge);
        al_status st = al_run_item_prepare(r, (int)item, &ge);
        if (st != AL_OK) {
            al_run_item_failed(r, g, n, st, &ge);
            for (int i = 0; i < n; i++)
                owner[g[i] - r->units] = m->rank;
            continue;
        }
        int nm = 0;
        for (int i = 0; i < n; i++)
            if (r->spec->steps[g[i]->step].def->maps) maps[nm++] = g[i];
        int64_t T, K;
        int nf = nm > 1 ? al_fuse_plan(r, maps, nm, f, &T, &K) : 0;
        for (int i = 0; i < nf; i++)
            fused[f[i] - r->units] = 1;
    }
}

/* what phase 1 found, on every rank: item identities, failed units, fused units */
static void al_mpi_share_items(al_run *r, int *fused, int *owner, int *failed) {
    MPI_Allreduce(MPI_IN_PLACE, r->ident, r->spec->nitems * AL_IDENT_MAX, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, fused, r->nunits, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    for (int i = 0; i < r->nunits; i++)
        failed[i] = owner[i] >= 0;
    MPI_Allreduce(MPI_IN_PLACE, failed, r->nunits, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
}

/* The tasks, the same list on every rank: per item in order, its shared pass (when two or more units share it)
 * and then each other pending unit. Returns the count. */
static int al_mpi_tasks(al_run *r, const int *fused, const int *failed, al_mtask *t) {
    int n = 0;
    for (int item = 0; item < r->spec->nitems; item++) {
        int any = 0;
        for (int i = 0; i < r->nunits; i++)
            any |= r->units[i].item == item && fused[i] && !failed[i];
        if (any) t[n++] = (al_mtask){item, -1};
        for (int i = 0; i < r->nunits; i++)
            if (r->units[i].item == item && r->units[i].state == AL_U_PENDING && !fused[i] && !failed[i])
                t[n++] = (al_mtask){item, i};
    }
    return n;
}

/* Phase 2 on this rank: tasks taken from counter 1 are run. */
static void al_mpi_work(al_run *r, al_mctx *m, const al_mtask *t, int nt, const int *fused, al_unit **g, int *owner) {
    for (long long k; (k = al_mpi_next(m, 1)) < nt;) {
        int n = 0;
        if (t[k].unit >= 0)
            g[n++] = &r->units[t[k].unit];
        else
            for (int i = 0; i < r->nunits; i++)
                if (r->units[i].item == t[k].item && fused[i]) g[n++] = &r->units[i];
        al_run_group(r, g, n);
        for (int i = 0; i < n; i++)
            owner[g[i] - r->units] = m->rank;
    }
}

/* Every unit's outcome to rank 0, from the rank that owns it (the one that ran or failed it). */
static al_status al_mpi_gather(al_run *r, al_mctx *m, int *owner, al_error *e) {
    MPI_Allreduce(MPI_IN_PLACE, owner, r->nunits, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    size_t bytes = (size_t)r->nunits * sizeof(al_unit);
    al_unit *all = m->rank == 0 ? al_malloc((size_t)m->size, bytes) : NULL;
    int ok = m->rank != 0 || all != NULL;
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    MPI_Gather(r->units, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (m->rank == 0) {
        for (int i = 0; i < r->nunits; i++)
            if (owner[i] > 0) r->units[i] = all[(size_t)owner[i] * (size_t)r->nunits + (size_t)i];
        al_free(all);
    }
    return AL_OK;
}

/* 1 on every rank when st failed on any (a rank that failed has e filled) */
static int al_mpi_failed(al_status st) {
    int bad = st != AL_OK;
    MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return bad;
}

/* the exit status of a step that failed somewhere: rank 0 prints its error, or says that another rank failed */
static int al_mpi_fail_rc(const al_mctx *m, al_status st, al_error *e) {
    if (m->rank != 0) return st != AL_OK ? al_exit_code(st) : 2;
    if (st == AL_OK)
        st = al_fail(e, AL_EINTERNAL, "run", NULL, "another rank of the MPI job failed to start (see its output)");
    return al_cmd_finish(st, e);
}

static al_status al_mpi_phases(al_run *r, al_mctx *m, al_error *e) {
    al_unit **g = al_calloc((size_t)r->nunits + 1, sizeof *g);
    int *fused = al_calloc((size_t)r->nunits + 1, sizeof *fused),
        *failed = al_calloc((size_t)r->nunits + 1, sizeof *failed);
    int *owner = al_malloc((size_t)r->nunits + 1, sizeof *owner);
    al_mtask *t = al_calloc((size_t)r->nunits + 1, sizeof *t);
    int ok = g && fused && failed && owner && t;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    al_status st = AL_OK;
    if (!ok)
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    else {
        for (int i = 0; i < r->nunits; i++)
            owner[i] = -1;
        al_mpi_items(r, m, g, fused, owner);
        al_mpi_share_items(r, fused, owner, failed);
        int nt = al_mpi_tasks(r, fused, failed, t);
        al_mpi_work(r, m, t, nt, fused, g, owner);
        st = al_mpi_gather(r, m, owner, e);
    }
    al_free(g), al_free(fused), al_free(failed), al_free(owner), al_free(t);
    return st;
}

int al_mpi_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") || getenv("PMI_SIZE");
}

/* the rank's place on its node, for --device cuda: GPU (local rank mod visible count) */
static void al_mpi_pick_gpu(void) {
    MPI_Comm node;
    int local = 0;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    MPI_Comm_free(&node);
    char v[16];
    snprintf(v, sizeof v, "%d", local);
    setenv("ATTNLAB_CUDA_DEVICE", v, 1);
}

int al_mpi_run(al_run *r, const char *path, al_error *e) {
    al_mctx m = {0};
    MPI_Init(NULL, NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &m.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m.size);
    al_mpi_pick_gpu();
    r->tty = 0; /* one plain line per unit from every rank, no bar */
    MPI_Win_allocate(m.rank == 0 ? 2 * (MPI_Aint)sizeof(long long) : 0, sizeof(long long), MPI_INFO_NULL,
                     MPI_COMM_WORLD, &m.ctr, &m.win);
    if (m.rank == 0) m.ctr[0] = m.ctr[1] = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    /* the spec is loaded and resolved by every rank alike; rank 0 alone takes the folder's lock and cleans it */
    al_status st = al_spec_load(path, &r->spec, e);
    if (st == AL_OK) st = al_spec_resolve(r->spec, e);
    if (!al_mpi_failed(st) && m.rank == 0) st = al_run_prepare_dir(r, e);
    if (!al_mpi_failed(st) && m.rank != 0) st = al_own_join(r, e); /* every rank records what it writes */
    if (!al_mpi_failed(st)) st = al_run_plan(r, e);
    int rc = 0;
    if (al_mpi_failed(st)) {
        rc = al_mpi_fail_rc(&m, st, e);
    } else {
        st = al_mpi_phases(r, &m, e);
        if (m.rank == 0 && st == AL_OK) {
            al_run_prune(r);
            st = al_run_finish(r, e);
        }
        if (m.rank == 0) rc = st != AL_OK ? al_cmd_finish(st, e) : al_run_outcome(r, "run");
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    MPI_Win_free(&m.win);
    MPI_Finalize();
    return rc;
}
