//! Where a check's endpoints come from when discovery runs: progressively (what the first
//! source found is checked while the others still run; the rest follow as
//! [`MoreTargets`]), or settled first when the user must be asked about a provider derived
//! from the MX record (the wizard). The trust policy is applied to every snapshot.

use std::time::Duration;

use super::check::{targets_from, MoreTargets, Target};
use super::trust::TrustPolicy;
use crate::discover::{DiscoverConfig, Discovery};
use crate::model::{Address, Protocol, TrustReason};

/// How long a check waits, from the first source's answer, for the sources still running
/// while it verifies what that one found (see `discover::Running::settle`).
pub const DISCOVERY_GRACE: Duration = Duration::from_secs(1);

/// What discovery hands a check.
pub struct Discovered {
    /// Checked at once.
    pub targets: Vec<Target>,
    /// The final discovery, when it was settled before the check (else it comes with `more`).
    pub discovery: Option<Discovery>,
    /// The rest of a discovery still under way.
    pub more: Option<MoreTargets>,
}

/// One check's discovery.
pub struct DiscoveryPlan<'a> {
    pub address: &'a Address,
    pub config: &'a DiscoverConfig,
    /// `--trust-host` values.
    pub trust_hosts: &'a [String],
    /// `--trust-mx`.
    pub trust_mx: bool,
    /// Only endpoints of these protocols are checked.
    pub wanted: &'a [Protocol],
    /// Asks the user to confirm a provider derived from the MX record; without it such a
    /// provider stays untrusted unless `trust_mx`.
    pub confirm_mx: Option<&'a (dyn Fn(&Discovery) -> bool + Sync)>,
}

/// Runs discovery for a check. `before_asking` runs before the user is asked anything (to
/// clear live progress).
pub async fn discover_targets(plan: DiscoveryPlan<'_>, before_asking: impl FnOnce()) -> Discovered {
    let wanted = plan.wanted.to_vec();
    let keep = move |targets: Vec<Target>, wanted: &[Protocol]| -> Vec<Target> {
        targets
            .into_iter()
            .filter(|t| wanted.contains(&t.endpoint.protocol))
            .collect()
    };
    let mut running = crate::discover::start(plan.address, plan.config);
    let mut policy = TrustPolicy::new(plan.address, plan.trust_hosts, plan.trust_mx);
    match (running.answered().await, plan.confirm_mx) {
        // Progressive: what answered first is checked while the other sources run.
        (Some(mut first), None) => {
            policy.apply(&mut first);
            let later = wanted.clone();
            let more: MoreTargets = Box::pin(async move {
                let mut found = running.settle(DISCOVERY_GRACE).await;
                policy.apply(&mut found);
                (keep(targets_from(&found), &later), found)
            });
            Discovered {
                targets: keep(targets_from(&first), &wanted),
                discovery: None,
                more: Some(more),
            }
        }
        (answered, confirm_mx) => {
            let mut found = match answered {
                Some(_) => running.settle(DISCOVERY_GRACE).await,
                None => running.complete().await,
            };
            policy.apply(&mut found);
            let unconfirmed = found
                .candidates
                .iter()
                .any(|c| c.trust_reason == Some(TrustReason::MxUnconfirmed));
            if let (true, Some(confirm)) = (unconfirmed, confirm_mx) {
                before_asking();
                if confirm(&found) {
                    policy = TrustPolicy::new(plan.address, plan.trust_hosts, true);
                    policy.apply(&mut found);
                }
            }
            Discovered {
                targets: keep(targets_from(&found), &wanted),
                discovery: Some(found),
                more: None,
            }
        }
    }
}
