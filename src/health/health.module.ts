import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from 'src/health/health.controller';
import { IssuersModule } from 'src/issuers/issuers.module';

@Module({
  controllers: [HealthController],
  imports: [IssuersModule, TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
})
export class HealthModule {}
