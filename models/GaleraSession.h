// GaleraSession: what a session on a MariaDB Galera node needs beyond any MariaDB session.
// Galera replicates a commit to every node before it returns, but a node applies the
// others' commits a moment later: a read on node B right after a commit on node A may not
// see it yet (a login through one instance, a refresh through another). Any thread may
// call this on a session it holds.
#pragma once

#include "models/Soci.h"

namespace authsvc::models {

// On a Galera node (wsrep_on), sets wsrep_sync_wait = 1 for the session: every read
// (SELECT, and so the reads of a transaction) first waits until this node has applied
// every commit the cluster had when the read began, so it sees what any instance
// acknowledged before. On MariaDB or MySQL without Galera: nothing. Returns whether the
// session is on a Galera node.
bool useCausalReadsOnGalera(soci::session& s);

}  // namespace authsvc::models
