// The daemon's webhook sender, on a thread of its own: turns each event of the stream into a
// delivery for every webhook of its app that includes its entity and tries it at once; the
// stream's cursor moves past a batch of events only once their deliveries are done or
// recorded durably to be retried, so that a killed daemon loses none (at least once: one
// tried but not recorded is tried again). `notify`: one attempt. `sync`: retried with exponential
// backoff and jitter (1 s, 2 s, 4 s, ... at most 10 minutes apart) for [webhooks] retry_for; a
// webhook whose receiver failed a whole window gets its next deliveries one try each (`skipped`
// when it fails), until one succeeds. Receivers on the server's own network are refused unless
// [webhooks] allow_private.
#pragma once

#include "runtime/daemon.hpp"

namespace slipway::notify {

DaemonService webhook_service(const Layout& layout);

} // namespace slipway::notify
