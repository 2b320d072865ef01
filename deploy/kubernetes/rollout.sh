#!/usr/bin/env bash
# Roll out the release named in deploy/kubernetes/image/kustomization.yaml with kubectl's current
# context: the schema upgrades run to completion first, and only then do the apps change. A failed
# upgrade leaves the running release untouched.
#
#   deploy/kubernetes/rollout.sh [--first-install]     (ROLLOUT_TIMEOUT=900 seconds by default)
#
# Before the first rollout: kubectl apply -k deploy/kubernetes/settings, then create the Secrets
# sso-idp and sso-training-rp and the TLS Secrets (deploy/README.md). --first-install also makes
# the IdP's first signing keys (production never makes them by itself) before the apps start.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ns=sso
timeout="${ROLLOUT_TIMEOUT:-900}"
jobs=(idp-db-upgrade training-rp-db-upgrade)
first_install=false
case "${1:-}" in
    "") ;;
    --first-install) first_install=true ;;
    *)
        echo "usage: $0 [--first-install]" >&2
        exit 2
        ;;
esac

if ! [[ "$timeout" =~ ^[0-9]+$ ]] || ((timeout < 1)); then
    echo "ROLLOUT_TIMEOUT must be a number of seconds, got '$timeout'" >&2
    exit 2
fi

for secret in sso-idp sso-training-rp; do
    if ! kubectl -n "$ns" get secret "$secret" >/dev/null 2>&1; then
        echo "Secret $ns/$secret is missing: create it first (deploy/README.md, \"Secrets\")" >&2
        exit 2
    fi
done

# Waits until a Job has completed (0) or failed (1), or the time is up (1).
wait_for_job() {
    local job="$1" deadline=$((SECONDS + timeout)) complete failed
    while ((SECONDS < deadline)); do
        complete="$(kubectl -n "$ns" get job "$job" -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}')"
        failed="$(kubectl -n "$ns" get job "$job" -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}')"
        if [[ "$complete" == "True" ]]; then
            return 0
        fi
        if [[ "$failed" == "True" ]]; then
            break
        fi
        sleep 3
    done
    kubectl -n "$ns" logs "job/$job" --tail=40 >&2 || true
    return 1
}

kubectl apply -k "$here/settings"
# A Job's pod template cannot change: the previous release's run goes before the new one starts.
kubectl -n "$ns" delete job "${jobs[@]}" --ignore-not-found --wait=true
kubectl apply -k "$here/migrate"
for job in "${jobs[@]}"; do
    if ! wait_for_job "$job"; then
        echo "schema upgrade $job did not complete; the apps were left as they were" >&2
        exit 1
    fi
    echo "schema upgrade $job complete"
done

if [[ "$first_install" == true ]]; then
    kubectl -n "$ns" delete job idp-keys-first --ignore-not-found --wait=true
    kubectl -n "$ns" create job idp-keys-first --from=cronjob/idp-keys-rotate
    if ! wait_for_job idp-keys-first; then
        echo "the first signing keys were not made; the apps were left as they were" >&2
        exit 1
    fi
    echo "first signing keys made"
fi

kubectl apply -k "$here/apps"
for deployment in idp legacy-redirect training-rp; do
    kubectl -n "$ns" rollout status "deployment/$deployment" --timeout="${timeout}s"
done
