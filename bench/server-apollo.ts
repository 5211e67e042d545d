/** Bench child 2: bare Apollo Server 5, graphql-js executing (bench/bare-apollo.ts). */
import { startBareApollo } from './bare-apollo.js';
import { serveChild } from './shared.js';

serveChild(() => startBareApollo(false));
