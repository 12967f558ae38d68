/* `attnlab run` across the ranks of an MPI job (built with ATTNLAB_MPI): the same units, outputs and report as
 * one process, with the work shared dynamically (docs/experiments.md, "Clusters"). */
#ifndef AL_RUN_MPI_H
#define AL_RUN_MPI_H

#include "run.h"

/* 1 when this process was started by an MPI launcher (mpirun, srun with PMIx). */
int al_mpi_launched(void);
/* Loads and resolves the spec at path, then runs r (options parsed, r->out set) with every rank of the job;
 * returns the exit status (the same on every rank; rank 0 prints the summary and any error line). */
int al_mpi_run(al_run *r, const char *path, al_error *e);

#endif
