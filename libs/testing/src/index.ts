// The public surface of @chat/testing: named, and only what the tests use.
export { deleteNamespace, eventually, freePort, randomName, testDatabaseUrl, testNatsUrl } from './infra';
export { configDocProblems, repoFile, subheadings } from './docs';
export { startPrivatePostgres, type PrivatePostgres } from './private-postgres';
export {
  startPrivateNats,
  startPrivateNatsCluster,
  type PrivateNats,
  type PrivateNatsCluster,
  type PrivateNatsServer,
} from './private-nats';
