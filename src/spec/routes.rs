//! The route table of the whole service (SPEC §10): all 17 operations of Cognito Sync, the six
//! of the dataset API (SPEC §2–§4) and the eleven pool-level and push-sync operations (§11).
//! All are modelled; an endpoint may leave the eleven unimplemented (AMB-OTHER-OPERATIONS). A
//! checker that wants an *unknown* route must pick one outside this table: every route here is
//! real.

/// One operation's HTTP route, as the service model's `http.requestUri` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub operation: &'static str,
    pub method: &'static str,
    /// Path template with `{Label}` segments, without a query string.
    pub template: &'static str,
    /// Whether the operation is one of the six of the dataset API (SPEC §2–§4), which every
    /// endpoint must serve; `false` for the eleven of §11, which it may leave unimplemented.
    /// (All 17 are modelled since §11; the name stays for the code that reads it.)
    pub modelled: bool,
}

const fn route(
    operation: &'static str,
    method: &'static str,
    template: &'static str,
    modelled: bool,
) -> Route {
    Route {
        operation,
        method,
        template,
        modelled,
    }
}

/// Every operation of the service, in name order.
pub const ROUTES: [Route; 17] = [
    route(
        "BulkPublish",
        "POST",
        "/identitypools/{IdentityPoolId}/bulkpublish",
        false,
    ),
    route(
        "DeleteDataset",
        "DELETE",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}",
        true,
    ),
    route(
        "DescribeDataset",
        "GET",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}",
        true,
    ),
    route(
        "DescribeIdentityPoolUsage",
        "GET",
        "/identitypools/{IdentityPoolId}",
        false,
    ),
    route(
        "DescribeIdentityUsage",
        "GET",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}",
        true,
    ),
    route(
        "GetBulkPublishDetails",
        "POST",
        "/identitypools/{IdentityPoolId}/getBulkPublishDetails",
        false,
    ),
    route(
        "GetCognitoEvents",
        "GET",
        "/identitypools/{IdentityPoolId}/events",
        false,
    ),
    route(
        "GetIdentityPoolConfiguration",
        "GET",
        "/identitypools/{IdentityPoolId}/configuration",
        false,
    ),
    route(
        "ListDatasets",
        "GET",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets",
        true,
    ),
    route("ListIdentityPoolUsage", "GET", "/identitypools", false),
    route(
        "ListRecords",
        "GET",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}/records",
        true,
    ),
    route(
        "RegisterDevice",
        "POST",
        "/identitypools/{IdentityPoolId}/identity/{IdentityId}/device",
        false,
    ),
    route(
        "SetCognitoEvents",
        "POST",
        "/identitypools/{IdentityPoolId}/events",
        false,
    ),
    route(
        "SetIdentityPoolConfiguration",
        "POST",
        "/identitypools/{IdentityPoolId}/configuration",
        false,
    ),
    route(
        "SubscribeToDataset",
        "POST",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}/subscriptions/{DeviceId}",
        false,
    ),
    route(
        "UnsubscribeFromDataset",
        "DELETE",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}/subscriptions/{DeviceId}",
        false,
    ),
    route(
        "UpdateRecords",
        "POST",
        "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}",
        true,
    ),
];

/// The operation a request goes to, if any: `method` exactly (HTTP methods are
/// case-sensitive), the path (query string ignored) segment by segment, a `{Label}` matching
/// any one non-empty segment and literal segments compared exactly.
pub fn route_of(method: &str, path_and_query: &str) -> Option<&'static Route> {
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path);
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES.iter().find(|route| {
        route.method == method && {
            let template: Vec<&str> = route.template.split('/').collect();
            template.len() == segments.len()
                && template.iter().zip(&segments).all(|(want, got)| {
                    if want.starts_with('{') {
                        !got.is_empty()
                    } else {
                        want == got
                    }
                })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_routes_are_the_dataset_api_and_eleven_may_be_unimplemented() {
        assert_eq!(ROUTES.iter().filter(|r| r.modelled).count(), 6);
        assert_eq!(ROUTES.iter().filter(|r| !r.modelled).count(), 11);
    }

    #[test]
    fn every_route_is_found_by_its_own_method_and_path() {
        for route in &ROUTES {
            let path = route
                .template
                .split('/')
                .map(|s| if s.starts_with('{') { "x%3Ay" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let found = route_of(route.method, &format!("{path}?maxResults=1"));
            assert_eq!(found.map(|r| r.operation), Some(route.operation), "{path}");
        }
    }

    #[test]
    fn paths_outside_the_table_are_unknown() {
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/identitypools/"),
            ("PUT", "/identitypools/p/identities/i/datasets/d"),
            (
                "GET",
                "/identitypools/p/identities/i/datasets/d/records/extra",
            ),
            ("GET", "/IdentityPools/p/identities/i/datasets/d"),
            ("get", "/identitypools"),
            ("POST", "/identitypools/p/identities/i/datasets/d/"),
        ] {
            assert_eq!(route_of(method, path), None, "{method} {path}");
        }
    }
}
