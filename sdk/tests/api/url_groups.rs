//! URL groups: endpoints, get, list and delete.

use qstash_sdk::Endpoint;

use crate::support::{answering_empty, answering_fixture, client, only_request, received};

#[tokio::test]
async fn adding_endpoints_posts_them_as_json() {
    let server = answering_empty().await;

    client(&server)
        .url_groups()
        .add_endpoints(
            "workers",
            [
                Endpoint::new("https://a.example.com/hook").name("a"),
                Endpoint::new("https://b.example.com/hook"),
            ],
        )
        .await
        .unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn removing_endpoints_sends_a_delete_with_a_json_body() {
    let server = answering_empty().await;

    client(&server)
        .url_groups()
        .remove_endpoints("workers", ["https://a.example.com/hook"])
        .await
        .unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn an_empty_endpoint_list_is_refused_before_sending() {
    let server = answering_empty().await;

    let err = client(&server)
        .url_groups()
        .add_endpoints("workers", Vec::<Endpoint>::new())
        .await
        .unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn getting_a_group_decodes_its_endpoints() {
    let server = answering_fixture("url_group").await;

    let group = client(&server).url_groups().get("workers").await.unwrap();

    insta::assert_debug_snapshot!(group);
    insta::assert_json_snapshot!("get_url_group_request", only_request(&server).await);
}

#[tokio::test]
async fn listing_and_deleting_groups_call_their_paths() {
    let server = answering_fixture("url_groups").await;
    let client = client(&server);

    let groups = client.url_groups().list().await.unwrap();
    client.url_groups().delete("workers").await.unwrap();

    assert_eq!(groups[0].endpoints[0].url, "https://a.example.com/hook");
    let calls: Vec<_> = received(&server)
        .await
        .iter()
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect();
    assert_eq!(calls, vec!["GET /v2/topics", "DELETE /v2/topics/workers"]);
}
